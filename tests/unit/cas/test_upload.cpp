#include "fake_cas.hpp"
#include "sconectl/cas/upload.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace sconectl::cas {
namespace {

using testing::InMemoryCas;
using testing::ScriptedTransport;

RetryPolicy fast_retries(std::chrono::milliseconds total = std::chrono::milliseconds(1000))
{
  return RetryPolicy{.first_delay = std::chrono::milliseconds(100),
                     .max_delay = std::chrono::milliseconds(400),
                     .total = total};
}

struct Sleeps {
  std::vector<long> delays;
  Sleeper sleeper()
  {
    return [this](std::chrono::milliseconds delay) { delays.push_back(delay.count()); };
  }
};

std::vector<model::Session> mesh_sessions(const std::string& user = "alice")
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
         {"attestation", {{"mrenclave", {std::string(64, 'a')}}}}}}},
      {"secrets",
       {{{"name", "pw"}, {"kind", "ascii"}, {"size", 16}},
        {{"name", "ca"}, {"import", {{"session", "../db"}, {"secret", "ca"}}}}}}};
  model::SessionDocument db = {
      {"version", "0.3.10"},
      {"name", "ns/db"},
      {"secrets", {{{"name", "ca"}, {"kind", "x509-ca"}, {"export", {{{"session", "../api"}}}}}}}};
  // Deliberately not in upload order: the importer before the exporter, the namespace last.
  return {{"ns/api", api}, {"ns/db", db}, {"ns", ns}};
}

TEST(CasClientRetries, RetriesServerErrorsWithDoublingDelaysThenSucceeds)
{
  ScriptedTransport transport;
  transport.answers.push_back(HttpResponse{503, "{}"});
  transport.answers.push_back(fail(ErrorKind::network, "connection refused"));
  transport.answers.push_back(HttpResponse{404, error_body({"no such session"})});
  Sleeps sleeps;
  CasClient client(transport, fast_retries(), sleeps.sleeper());
  const auto record = client.get_session("ns");
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_FALSE(*record);
  EXPECT_EQ(transport.requests.size(), 3u);
  EXPECT_EQ(sleeps.delays, (std::vector<long>{100, 200}));
}

TEST(CasClientRetries, GivesUpWithinTheTotalTime)
{
  ScriptedTransport transport;
  for (int i = 0; i < 20; ++i) {
    transport.answers.push_back(fail(ErrorKind::network, "connection refused"));
  }
  Sleeps sleeps;
  CasClient client(transport, fast_retries(std::chrono::milliseconds(1000)), sleeps.sleeper());
  const auto record = client.get_session("ns");
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().kind, ErrorKind::network);
  long waited = 0;
  for (const auto delay : sleeps.delays) {
    waited += delay;
  }
  EXPECT_LE(waited, 1000);
  EXPECT_EQ(sleeps.delays, (std::vector<long>{100, 200, 400}));
}

TEST(CasClientRetries, NeverRetriesClientErrorsConflictsOrTlsFailures)
{
  for (auto answer : std::vector<Result<HttpResponse>>{
           HttpResponse{400, error_body({"broken YAML"})},
           HttpResponse{409, error_body({"predecessor mismatch"}, std::string(64, 'c'))},
           fail(ErrorKind::tls, "pinned key mismatch")}) {
    ScriptedTransport transport;
    transport.answers.push_back(answer);
    Sleeps sleeps;
    CasClient client(transport, fast_retries(), sleeps.sleeper());
    const auto posted = client.post_session("ns", "name: ns\n");
    ASSERT_FALSE(posted);
    EXPECT_EQ(transport.requests.size(), 1u);
    EXPECT_TRUE(sleeps.delays.empty());
    if (answer && answer->status == 409) {
      EXPECT_EQ(posted.error().kind, ErrorKind::conflict);
      EXPECT_NE(posted.error().message.find(std::string(64, 'c')), std::string::npos);
    }
  }
}

TEST(CasClientRetries, SendsSessionsAsYamlToTheSessionsPath)
{
  ScriptedTransport transport;
  transport.answers.push_back(HttpResponse{201, R"({"name":"ns","hash":"h","predecessor":null})"});
  CasClient client(transport);
  const auto posted = client.post_session("ns", "name: ns\n");
  ASSERT_TRUE(posted);
  EXPECT_TRUE(posted->created);
  EXPECT_EQ(transport.requests[0].target, "/v1/sessions");
  EXPECT_EQ(transport.requests[0].content_type, "application/yaml");
}

TEST(UploadOrder, NamespaceFirstAndExportersBeforeImporters)
{
  const auto sessions = mesh_sessions();
  std::vector<std::string> names;
  for (const auto* session : upload_order(sessions)) {
    names.push_back(session->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"ns", "ns/db", "ns/api"}));
}

// Both ways of finding what changed: the local CAS's batch read of current versions (no GET per
// session), and one GET per session for a CAS without it (SCONE's).
TEST(Upload, CreatesThenSkipsUnchangedThenUpdatesWithThePredecessor)
{
  for (const bool batch : {true, false}) {
    SCOPED_TRACE(batch ? "batch read of current versions" : "a GET per session");
    InMemoryCas server;
    server.offers_current_versions = batch;
    CasClient client(server);
    UploadRecord record{.cas = "cas:8081"};
    const auto created = upload_sessions(client, mesh_sessions(), server.requester, record);
    ASSERT_TRUE(created) << created.error().message;
    for (const auto& session : created->sessions) {
      EXPECT_EQ(session.action, UploadAction::created) << session.name;
    }
    EXPECT_EQ(server.posts, 3);

    const int gets_before = server.gets;
    const auto again = upload_sessions(client, mesh_sessions(), server.requester, record);
    ASSERT_TRUE(again);
    for (const auto& session : again->sessions) {
      EXPECT_EQ(session.action, UploadAction::unchanged) << session.name;
    }
    EXPECT_EQ(server.posts, 3) << "an unchanged session must not be uploaded";
    EXPECT_EQ(server.gets - gets_before, batch ? 0 : 3);
    EXPECT_EQ(server.batch_reads, batch ? 2 : 0);

    const auto changed = upload_sessions(client, mesh_sessions("bob"), server.requester, record);
    ASSERT_TRUE(changed) << changed.error().message;
    const auto& api = changed->sessions.back();
    EXPECT_EQ(api.name, "ns/api");
    EXPECT_EQ(api.action, UploadAction::updated);
    EXPECT_EQ(api.predecessor, server.versions["ns/api"].front().hash);
    EXPECT_EQ(server.versions["ns/api"].size(), 2u);
    EXPECT_EQ(record.chains["ns/api"],
              (std::vector<std::string>{server.versions["ns/api"][1].hash,
                                        server.versions["ns/api"][0].hash}));
    EXPECT_TRUE(changed->warnings.empty());

    // Unchanged again after the update: its hash covers its predecessor, and still matches.
    const auto settled = upload_sessions(client, mesh_sessions("bob"), server.requester, record);
    ASSERT_TRUE(settled);
    EXPECT_EQ(settled->sessions.back().action, UploadAction::unchanged);
  }
}

// A namespace and `count` services; service i imports a secret from service i-1 when `chained`.
std::vector<model::Session> many_sessions(int count, bool chained)
{
  std::vector<model::Session> sessions;
  for (int i = count - 1; i >= 0; --i) {  // the importers first: the order has to be found
    const auto name = "ns/s" + std::to_string(i);
    model::SessionDocument document = {
        {"version", "0.3.10"},
        {"name", name},
        {"secrets",
         {{{"name", "own"},
           {"kind", "ascii"},
           {"export", {{{"session", "../s" + std::to_string(i + 1)}}}}}}}};
    if (chained && i > 0) {
      document["secrets"].push_back(
          {{"name", "from_before"},
           {"import", {{"session", "../s" + std::to_string(i - 1)}, {"secret", "own"}}}});
    }
    sessions.push_back({name, document});
  }
  sessions.push_back({"ns", {{"version", "0.3.10"}, {"name", "ns"}}});
  return sessions;
}

UploadConcurrency borrowed_connections(InMemoryCas& server, std::size_t requests)
{
  return UploadConcurrency{
      .requests = requests,
      .another_transport = [&server]() -> Result<std::unique_ptr<HttpTransport>> {
        return std::make_unique<testing::BorrowedTransport>(server);
      }};
}

TEST(ConcurrentUpload, KeepsSeveralRequestsInFlightAndTheOrderThatImportsNeed)
{
  for (const bool chained : {false, true}) {
    SCOPED_TRACE(chained ? "each imports from the one before" : "independent");
    InMemoryCas server;
    server.slow_posts = std::chrono::milliseconds(5);
    CasClient client(server);
    UploadRecord record{.cas = "cas:8081"};
    const auto report = upload_sessions(client,
                                        many_sessions(24, chained),
                                        server.requester,
                                        record,
                                        borrowed_connections(server, 8));
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->sessions.size(), 25U);
    ASSERT_EQ(server.posted.size(), 25U);
    EXPECT_EQ(server.posted.front(), "ns") << "the namespace before everything in it";
    const auto at = [&server](const std::string& name) {
      return std::find(server.posted.begin(), server.posted.end(), name) - server.posted.begin();
    };
    for (int i = 1; chained && i < 24; ++i) {
      EXPECT_LT(at("ns/s" + std::to_string(i - 1)), at("ns/s" + std::to_string(i)));
    }
    // Independent sessions go out together; a chain allows one at a time.
    if (chained) {
      EXPECT_EQ(server.most_in_flight, 1U);
    } else {
      EXPECT_GT(server.most_in_flight, 1U);
      EXPECT_LE(server.most_in_flight, 8U);
    }
    EXPECT_EQ(record.chains.size(), 25U);
    // The report keeps the upload order, whatever order the answers came in.
    EXPECT_EQ(report->sessions.front().name, "ns");
  }
}

TEST(ConcurrentUpload, AFailureStopsNewRequestsAndEveryFailureIsNamed)
{
  InMemoryCas server;
  server.slow_posts = std::chrono::milliseconds(5);
  server.refuse = {"ns/s3", "ns/s4"};
  CasClient client(server);
  UploadRecord record{.cas = "cas:8081"};
  // The order is ns, s39, ..., s0: s4 and s3 go out together on the two connections and both
  // fail; what was accepted before is recorded, and s2, s1, s0 are never started.
  const auto report = upload_sessions(
      client, many_sessions(40, false), server.requester, record, borrowed_connections(server, 2));
  ASSERT_FALSE(report);
  const auto& message = report.error().message;
  EXPECT_NE(message.find("2 sessions failed to upload"), std::string::npos) << message;
  EXPECT_NE(message.find("ns/s3"), std::string::npos) << message;
  EXPECT_NE(message.find("ns/s4"), std::string::npos) << message;
  EXPECT_EQ(server.posted.size(), 36U);  // ns and s39 .. s5
  for (const auto& name : server.posted) {
    EXPECT_EQ(record.chains.count(name), 1U) << name << " was accepted but not recorded";
  }
  for (const char* never : {"ns/s2", "ns/s1", "ns/s0"}) {
    EXPECT_EQ(std::count(server.posted.begin(), server.posted.end(), never), 0) << never;
  }
}

TEST(ConcurrentUpload, ASessionWhoseSourceFailedIsNotSent)
{
  InMemoryCas server;
  server.refuse = {"ns/s2"};
  CasClient client(server);
  UploadRecord record{.cas = "cas:8081"};
  const auto report = upload_sessions(
      client, many_sessions(6, true), server.requester, record, borrowed_connections(server, 4));
  ASSERT_FALSE(report);
  EXPECT_EQ(server.posted, (std::vector<std::string>{"ns", "ns/s0", "ns/s1"}));
}

TEST(ConcurrentUpload, AConflictUnderConcurrencyIsReportedAndNothingIsOverwritten)
{
  InMemoryCas server;
  CasClient client(server);
  UploadRecord record{.cas = "cas:8081"};
  ASSERT_TRUE(upload_sessions(
      client, many_sessions(8, false), server.requester, record, borrowed_connections(server, 4)));
  auto changed = many_sessions(8, false);
  for (auto& session : changed) {
    session.document["salt"] = std::string(32, '1');
  }
  // Someone else updates ns/s5 after the batch read, before our update reaches it.
  server.before_post = [&server] {
    auto other = server.versions.at("ns/s5").back();
    server.post("version: \"0.3.10\"\nname: ns/s5\nsalt: \"" + std::string(32, '2')
                    + "\"\npredecessor: \"" + other.hash + "\"\n",
                server.requester);
  };
  const auto report =
      upload_sessions(client, changed, server.requester, record, borrowed_connections(server, 4));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::conflict);
  EXPECT_NE(report.error().message.find("nothing was overwritten"), std::string::npos)
      << report.error().message;
}

TEST(Upload, AConcurrentChangeIsReportedWithBothHashesAndNotOverwritten)
{
  InMemoryCas server;
  CasClient client(server);
  UploadRecord record;
  ASSERT_TRUE(upload_sessions(client, mesh_sessions(), server.requester, record));
  const auto before = server.versions["ns/api"].back().hash;
  server.before_post = [&] {
    auto sneaky = model::parse_session_yaml(server.versions["ns/api"].back().session).value();
    sneaky.erase("creator");
    sneaky["predecessor"] = before;
    sneaky["services"][0]["environment"]["API_USER"] = "mallory";
    server.post(model::to_yaml(sneaky), "someone-else");
  };
  const auto result = upload_sessions(client, mesh_sessions("bob"), server.requester, record);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::conflict);
  const auto now = server.versions["ns/api"].back().hash;
  EXPECT_NE(result.error().message.find(before), std::string::npos);
  EXPECT_NE(result.error().message.find(now), std::string::npos);
  EXPECT_EQ(server.versions["ns/api"].size(), 2u) << "the other change must survive";
}

TEST(Upload, ARetriedUploadThatWasAppliedCountsAsDone)
{
  InMemoryCas server;
  CasClient client(server, fast_retries(), [](std::chrono::milliseconds) {});
  UploadRecord record;
  server.lose_next_answer = true;
  const auto result = upload_sessions(client, mesh_sessions(), server.requester, record);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->sessions.front().action, UploadAction::created);
  EXPECT_EQ(result->sessions.front().hash, server.versions["ns"].back().hash);
  EXPECT_EQ(server.versions["ns"].size(), 1u);
}

TEST(Upload, AHashThatDoesNotMatchWhatWasSentIsAnError)
{
  InMemoryCas server;
  server.misreport_hash = true;
  CasClient client(server);
  UploadRecord record;
  const auto result = upload_sessions(client, mesh_sessions(), server.requester, record);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("stored something else"), std::string::npos);
}

TEST(Upload, WarnsWhenTheCasChangedSinceTheLastApply)
{
  InMemoryCas server;
  CasClient client(server);
  UploadRecord record;
  ASSERT_TRUE(upload_sessions(client, mesh_sessions(), server.requester, record));
  auto changed = model::parse_session_yaml(server.versions["ns/db"].back().session).value();
  changed.erase("creator");
  changed["predecessor"] = server.versions["ns/db"].back().hash;
  changed["secrets"][0]["kind"] = "x509-ca";
  changed["secrets"][0]["common_name"] = "evil";
  server.post(model::to_yaml(changed), server.requester);
  const auto result = upload_sessions(client, mesh_sessions(), server.requester, record);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_NE(result->warnings[0].find("ns/db"), std::string::npos);
  EXPECT_EQ(result->sessions[1].action, UploadAction::updated);
}

TEST(UploadRecord, RoundTripsThroughTargetCas)
{
  testing::TempDir dir;
  UploadRecord record{.cas = "cas:8081", .cas_key = "pin", .chains = {{"ns", {"h2", "h1"}}}};
  ASSERT_TRUE(save_upload_record(dir.path(), record));
  const auto loaded = load_upload_record(dir.path());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cas, "cas:8081");
  EXPECT_EQ(loaded->cas_key, std::optional<std::string>("pin"));
  EXPECT_EQ(loaded->chains.at("ns"), (std::vector<std::string>{"h2", "h1"}));
  EXPECT_TRUE(load_upload_record(dir.path() / "missing")->chains.empty());
}

}  // namespace
}  // namespace sconectl::cas
