#include "fake_cas.hpp"
#include "golden.hpp"
#include "sconectl/apply/plan_mesh.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <sys/stat.h>

namespace sconectl::apply {
namespace {

using testing::InMemoryCas;

const std::string k_cas = "cas.example:8081";

std::vector<model::Session> mesh_sessions(const std::string& user = "alice",
                                          const std::string& measurement = std::string(64, 'a'),
                                          int password_size = 16)
{
  model::SessionDocument ns = {{"version", "0.3.10"}, {"name", "ns"}};
  model::SessionDocument api = {
      {"version", "0.3.10"},
      {"name", "ns/api"},
      {"services",
       {{{"name", "api"},
         {"command", {"./api"}},
         {"pwd", "/"},
         {"environment", {{"API_USER", user}, {"API_PASSWORD", "$$SCONE::pw$$"}}},
         {"attestation", {{"mrenclave", {measurement}}}}}}},
      {"secrets", {{{"name", "pw"}, {"kind", "ascii"}, {"size", password_size}}}}};
  model::SessionDocument db = {{"version", "0.3.10"},
                               {"name", "ns/db"},
                               {"secrets", {{{"name", "ca"}, {"kind", "x509-ca"}}}}};
  return {{"ns/api", api}, {"ns/db", db}, {"ns", ns}};
}

const SessionPlan& find(const MeshPlan& plan, const std::string& name)
{
  for (const auto& session : plan.sessions) {
    if (session.name == name) {
      return session;
    }
  }
  throw std::runtime_error("no session " + name + " in the plan");
}

std::vector<std::string> kinds(const SessionPlan& session)
{
  std::vector<std::string> found;
  for (const auto& change : session.changes) {
    found.push_back(change.kind);
  }
  return found;
}

// Uploads `sessions` and returns the record of that upload.
cas::UploadRecord uploaded(InMemoryCas& server, const std::vector<model::Session>& sessions)
{
  cas::CasClient client(server);
  cas::UploadRecord record{.cas = k_cas};
  EXPECT_TRUE(cas::upload_sessions(client, sessions, server.requester, record));
  return record;
}

TEST(PlanMesh, AnEmptyCasCreatesEverythingWithTheHashesTheUploadThenStores)
{
  InMemoryCas server;
  cas::CasClient client(server);
  const auto plan = plan_mesh(client, mesh_sessions(), server.requester, {}, k_cas);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->sessions.size(), 3u);
  EXPECT_EQ(plan->sessions[0].name, "ns") << "upload order";
  EXPECT_TRUE(plan->has_changes());
  EXPECT_EQ(server.posts, 0) << "a plan uploads nothing";
  const auto record = uploaded(server, mesh_sessions());
  for (const auto& session : plan->sessions) {
    EXPECT_EQ(session.action, PlanAction::create);
    EXPECT_FALSE(session.current_hash);
    EXPECT_EQ(session.planned_hash, record.chains.at(session.name).front()) << session.name;
  }
}

TEST(PlanMesh, UnchangedSessionsNeedOneBatchReadAndNoGet)
{
  InMemoryCas server;
  const auto record = uploaded(server, mesh_sessions());
  cas::CasClient client(server);
  server.gets = 0;
  const auto plan = plan_mesh(client, mesh_sessions(), server.requester, record, k_cas);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->has_changes());
  EXPECT_EQ(server.batch_reads, 2);
  EXPECT_EQ(server.gets, 0);
  for (const auto& session : plan->sessions) {
    EXPECT_EQ(session.action, PlanAction::unchanged);
    EXPECT_EQ(session.current_hash, session.planned_hash);
    EXPECT_FALSE(session.changed_elsewhere());
  }
}

TEST(PlanMesh, AnUpdateReadsOnlyThatSessionAndNamesTheExactHashItWillStore)
{
  InMemoryCas server;
  auto record = uploaded(server, mesh_sessions());
  cas::CasClient client(server);
  server.gets = 0;
  const auto proposed = mesh_sessions("bob", std::string(64, 'b'), 20);
  const auto plan = plan_mesh(client,
                              proposed,
                              server.requester,
                              record,
                              k_cas,
                              {{"ns/api/api", "registry.example/api:2"}});
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(server.gets, 1);
  const auto& api = find(*plan, "ns/api");
  EXPECT_EQ(api.action, PlanAction::update);
  EXPECT_EQ(api.current_hash, server.versions["ns/api"].back().hash);
  EXPECT_EQ(kinds(api),
            (std::vector<std::string>{"measurement-added",
                                      "measurement-removed",
                                      "secret-regenerated",
                                      "environment-changed"}));
  EXPECT_NE(api.changes[0].message.find("registry.example/api:2"), std::string::npos)
      << api.changes[0].message;
  EXPECT_EQ(find(*plan, "ns/db").action, PlanAction::unchanged);
  // The upload stores exactly the planned hash.
  ASSERT_TRUE(cas::upload_sessions(client, proposed, server.requester, record));
  EXPECT_EQ(api.planned_hash, server.versions["ns/api"].back().hash);
}

TEST(PlanMesh, WithoutBatchReadsOneGetPerSessionGivesTheSameAnswer)
{
  InMemoryCas batch;
  InMemoryCas plain;
  plain.offers_current_versions = false;
  auto record = uploaded(batch, mesh_sessions());
  (void)uploaded(plain, mesh_sessions());
  cas::CasClient batch_client(batch);
  cas::CasClient plain_client(plain);
  const auto proposed = mesh_sessions("bob");
  const auto one = plan_mesh(batch_client, proposed, batch.requester, record, k_cas);
  plain.gets = 0;
  const auto two = plan_mesh(plain_client, proposed, plain.requester, record, k_cas);
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ(plain.gets, 3) << "one GET per session, none twice";
  EXPECT_EQ(to_json(*one).dump(), to_json(*two).dump());
}

TEST(PlanMesh, NamesBothHashesWhenSomeoneElseChangedASession)
{
  InMemoryCas server;
  const auto record = uploaded(server, mesh_sessions());
  const auto recorded = server.versions["ns/db"].back().hash;
  auto changed = model::parse_session_yaml(server.versions["ns/db"].back().session).value();
  changed.erase("creator");
  changed["predecessor"] = recorded;
  changed["secrets"][0]["common_name"] = "other";
  server.post(model::to_yaml(changed), "someone-else");
  cas::CasClient client(server);
  const auto plan = plan_mesh(client, mesh_sessions(), server.requester, record, k_cas);
  ASSERT_TRUE(plan) << plan.error().message;
  const auto& db = find(*plan, "ns/db");
  EXPECT_TRUE(db.changed_elsewhere());
  EXPECT_EQ(db.recorded_hash, recorded);
  EXPECT_EQ(db.current_hash, server.versions["ns/db"].back().hash);
  EXPECT_EQ(db.action, PlanAction::update) << "this apply would undo their change";
  const auto lines = risk_lines(*plan);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find(recorded), std::string::npos);
  EXPECT_NE(lines[0].find(*db.current_hash), std::string::npos);
}

TEST(PlanMesh, ASessionNoLongerProducedButStillOnTheCasIsOrphaned)
{
  InMemoryCas server;
  const auto record = uploaded(server, mesh_sessions());
  auto fewer = mesh_sessions();
  fewer.erase(fewer.begin() + 1);  // ns/db
  cas::CasClient client(server);
  const auto plan = plan_mesh(client, fewer, server.requester, record, k_cas);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->sessions.size(), 3u);
  EXPECT_EQ(plan->sessions.back().name, "ns/db");
  EXPECT_EQ(plan->sessions.back().action, PlanAction::orphaned);
  EXPECT_TRUE(plan->has_changes());
  // A record of another CAS says nothing about this one.
  auto elsewhere = record;
  elsewhere.cas = "other:8081";
  const auto other = plan_mesh(client, fewer, server.requester, elsewhere, k_cas);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->sessions.size(), 2u);
}

TEST(PlanMesh, ProductionNeedsConsentToRegenerateASecretOrWeakenAttestation)
{
  InMemoryCas server;
  const auto record = uploaded(server, mesh_sessions());
  cas::CasClient client(server);
  const auto plan = plan_mesh(
      client, mesh_sessions("alice", std::string(64, 'a'), 20), server.requester, record, k_cas);
  ASSERT_TRUE(plan) << plan.error().message;
  const auto refused = check_consent(*plan, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::usage);
  EXPECT_NE(refused.error().message.find("--allow-secret-regeneration"), std::string::npos);
  EXPECT_NE(refused.error().message.find("ns/api"), std::string::npos);
  EXPECT_TRUE(check_consent(*plan, {.secret_regeneration = true}));

  auto weaker = mesh_sessions();
  weaker[1].document["security"] = {{"attestation", {{"tolerate", {"debug-mode"}}}}};
  const auto tolerant = plan_mesh(client, weaker, server.requester, record, k_cas);
  ASSERT_TRUE(tolerant) << tolerant.error().message;
  const auto no = check_consent(*tolerant, {.secret_regeneration = true});
  ASSERT_FALSE(no);
  EXPECT_NE(no.error().message.find("--allow-weaker-attestation"), std::string::npos);
  EXPECT_TRUE(check_consent(*tolerant, {.weaker_attestation = true}));
}

TEST(ReviewedPlan, RoundTripsPrivatelyAndMatchesOnlyWhatWasReviewed)
{
  InMemoryCas server;
  const auto record = uploaded(server, mesh_sessions());
  cas::CasClient client(server);
  const auto plan = plan_mesh(client, mesh_sessions("bob"), server.requester, record, k_cas);
  ASSERT_TRUE(plan);
  testing::TempDir dir;
  const auto file = dir.path() / "plan.json";
  ASSERT_TRUE(save_reviewed_plan(file, reviewed(*plan)));
  struct stat status {};
  ASSERT_EQ(::stat(file.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600);
  const auto loaded = load_reviewed_plan(file);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->sessions.size(), 1u);
  EXPECT_TRUE(plan_mismatches(*loaded, *plan).empty());

  // The manifests now produce something else.
  const auto other = plan_mesh(client, mesh_sessions("carol"), server.requester, record, k_cas);
  ASSERT_TRUE(other);
  auto problems = plan_mismatches(*loaded, *other);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("ns/api"), std::string::npos);

  // The CAS no longer holds the planned predecessor.
  cas::UploadRecord theirs;
  ASSERT_TRUE(cas::upload_sessions(client, mesh_sessions("dave"), "someone-else", theirs));
  const auto moved = plan_mesh(client, mesh_sessions("bob"), server.requester, record, k_cas);
  ASSERT_TRUE(moved);
  problems = plan_mismatches(*loaded, *moved);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(*loaded->sessions[0].current_hash), std::string::npos);

  std::ofstream(dir.path() / "bad.json") << "{\"format\": 1, \"cas\": 3}";
  const auto bad = load_reviewed_plan(dir.path() / "bad.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.json"), std::string::npos);
}

// The JSON schema (docs/diff.md): every action, a concurrency note and changes of each risk
// area, as pipelines see them. SCONECTL_UPDATE_GOLDEN=1 rewrites the files.
TEST(PlanMeshJson, MatchesTheDocumentedSchema)
{
  const auto golden = std::filesystem::path(SCONECTL_SOURCE_DIR) / "tests" / "golden" / "diff";
  InMemoryCas server;
  auto record = uploaded(server, mesh_sessions());
  // Someone else changes ns/db; ns/gone was uploaded from here and is no longer produced.
  auto changed = model::parse_session_yaml(server.versions["ns/db"].back().session).value();
  changed.erase("creator");
  changed["predecessor"] = server.versions["ns/db"].back().hash;
  changed["secrets"][0]["common_name"] = "other";
  server.post(model::to_yaml(changed), "someone-else");
  model::SessionDocument gone = {{"version", "0.3.10"}, {"name", "ns/gone"}};
  server.post(model::to_yaml(gone), server.requester);
  record.chains["ns/gone"] = {server.versions["ns/gone"].back().hash};
  auto proposed = mesh_sessions("bob", std::string(64, 'b'), 20);
  proposed[0].document["security"] = {{"attestation", {{"tolerate", {"debug-mode"}}}}};
  proposed[0].document["access_policy"] = {{"read", {"CREATOR", "ANY"}}};
  proposed.push_back({"ns/new", {{"version", "0.3.10"}, {"name", "ns/new"}}});
  cas::CasClient client(server);
  const auto plan = plan_mesh(client,
                              proposed,
                              server.requester,
                              record,
                              k_cas,
                              {{"ns/api/api", "registry.example/api:2"}});
  ASSERT_TRUE(plan) << plan.error().message;
  testing::compare_or_update(golden / "plan.json", to_json(*plan).dump(2) + "\n");
  testing::TempDir dir;
  ASSERT_TRUE(save_reviewed_plan(dir.path() / "plan.json", reviewed(*plan)));
  testing::compare_or_update(golden / "reviewed-plan.json",
                             testing::read_file(dir.path() / "plan.json"));
}

}  // namespace
}  // namespace sconectl::apply
