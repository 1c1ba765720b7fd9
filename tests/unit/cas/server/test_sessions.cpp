#include "cas_fixture.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/x509.hpp"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace sconectl::cas::testing {
namespace {

using SessionsTest = CasTest;

TEST_F(SessionsTest, CreatedSessionReadsBackWithCreatorAndHash)
{
  const auto created = upload(m_alice, session_yaml("demo"));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto receipt = json_of(created);
  EXPECT_EQ(receipt.at("name"), "demo");
  EXPECT_TRUE(receipt.at("predecessor").is_null());

  const auto read_back = read(m_alice, "demo");
  ASSERT_EQ(read_back.status, 200) << read_back.body;
  const auto record = json_of(read_back);
  EXPECT_EQ(record.at("hash"), receipt.at("hash"));
  EXPECT_EQ(record.at("creator"), m_alice.key_hash);
  const auto document = model::parse_session_yaml(record.at("session").get<std::string>());
  ASSERT_TRUE(document);
  EXPECT_EQ(document->at("creator"), m_alice.key_hash);
  EXPECT_EQ(model::session_hash(*document), record.at("hash"));
}

TEST_F(SessionsTest, UpdateWithCurrentPredecessorKeepsHistoryReadableByHash)
{
  const auto first = create(m_alice, session_yaml("demo", salt_line(1)));
  const auto updated = upload(m_alice, with_predecessor(session_yaml("demo"), first));
  ASSERT_EQ(updated.status, 200) << updated.body;
  const auto second = json_of(updated).at("hash").get<std::string>();
  EXPECT_NE(second, first);
  EXPECT_EQ(json_of(updated).at("predecessor"), first);

  EXPECT_EQ(json_of(read(m_alice, "demo")).at("hash"), second);
  const auto old = read(m_alice, "demo", "hash=" + first);
  ASSERT_EQ(old.status, 200) << old.body;
  EXPECT_EQ(json_of(old).at("hash"), first);
  EXPECT_NE(json_of(old).at("session").get<std::string>().find(salt_line(1).substr(7, 32)),
            std::string::npos);
  EXPECT_EQ(json_of(read(m_alice, "demo", "hash=" + second)).at("predecessor"), first);
}

TEST_F(SessionsTest, StalePredecessorIsAConflictNamingTheCurrentHash)
{
  const auto first = create(m_alice, session_yaml("demo"));
  const auto second =
      json_of(upload(m_alice, with_predecessor(session_yaml("demo"), first))).at("hash");
  const auto stale = upload(m_alice, with_predecessor(session_yaml("demo", salt_line(2)), first));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json_of(stale).at("current"), second);
  EXPECT_NE(messages_of(stale).find(first), std::string::npos);
  EXPECT_NE(messages_of(stale).find(second.get<std::string>()), std::string::npos);
}

TEST_F(SessionsTest, CreatingAnExistingNameIsAConflict)
{
  const auto hash = create(m_alice, session_yaml("demo"));
  const auto again = upload(m_alice, session_yaml("demo"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json_of(again).at("current"), hash);
  EXPECT_EQ(messages_of(again), "session 'demo' exists; to update it, set predecessor to " + hash);
}

// The current hash, with the template and the creator's key hash, is an offline oracle for the
// session's explicit values: a client that may neither read nor update gets the 403 of a read.
TEST_F(SessionsTest, CreatingAnotherClientsNameIsRefusedWithoutTheHash)
{
  const auto hash = create(m_alice, session_yaml("demo"));
  const auto by_bob = upload(m_bob, session_yaml("demo"));
  EXPECT_EQ(by_bob.status, 403);
  EXPECT_EQ(by_bob.body.find(hash), std::string::npos) << by_bob.body;
  EXPECT_FALSE(json_of(by_bob).contains("current")) << by_bob.body;
  EXPECT_EQ(read(m_bob, "demo").status, 403);

  // A client that may read it learns nothing new from the 409.
  const auto open = create(m_alice, session_yaml("open", "access_policy:\n  read: [\"ANY\"]\n"));
  const auto readable = upload(m_bob, session_yaml("open"));
  EXPECT_EQ(readable.status, 409);
  EXPECT_EQ(json_of(readable).at("current"), open);
}

TEST_F(SessionsTest, UpdateOfAMissingSessionIsNotFound)
{
  const auto response =
      upload(m_alice, with_predecessor(session_yaml("demo"), std::string(64, 'a')));
  EXPECT_EQ(response.status, 404);
}

TEST_F(SessionsTest, OnlyTheCreatorMayUpdateByDefault)
{
  const auto hash = create(m_alice, session_yaml("demo"));
  EXPECT_EQ(upload(m_bob, with_predecessor(session_yaml("demo"), hash)).status, 403);
  const auto updated = upload(m_alice, with_predecessor(session_yaml("demo"), hash));
  ASSERT_EQ(updated.status, 200);
  // The creator stays the original one, so CREATOR keeps meaning the same client.
  EXPECT_EQ(json_of(read(m_alice, "demo")).at("creator"), m_alice.key_hash);
}

TEST_F(SessionsTest, UpdateListNamingAnotherKeyLetsItUpdateButKeepsTheCreator)
{
  const auto hash =
      create(m_alice,
             session_yaml("demo",
                          "access_policy:\n  update: [\"CREATOR\", \"" + m_bob.key_hash + "\"]\n"));
  const auto by_bob = upload(m_bob, with_predecessor(session_yaml("demo"), hash));
  ASSERT_EQ(by_bob.status, 200) << by_bob.body;
  EXPECT_EQ(json_of(read(m_alice, "demo")).at("creator"), m_alice.key_hash);
}

TEST_F(SessionsTest, OnlyTheNamespaceCreatorMayCreateSessionsInIt)
{
  create(m_alice, session_yaml("shop"));
  const auto refused = upload(m_bob, session_yaml("shop/db"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(messages_of(refused).find("create_sessions"), std::string::npos);
  EXPECT_EQ(upload(m_alice, session_yaml("shop/db")).status, 201);
}

TEST_F(SessionsTest, CreateSessionsListAdmitsOtherKeys)
{
  create(m_alice,
         session_yaml("shop", "access_policy:\n  create_sessions: [\"" + m_bob.key_hash + "\"]\n"));
  EXPECT_EQ(upload(m_bob, session_yaml("shop/db")).status, 201);
  EXPECT_EQ(upload(m_alice, session_yaml("shop/web")).status, 403);
}

TEST_F(SessionsTest, NestedNamespacesEachGovernTheirOwnChildren)
{
  create(m_alice, session_yaml("org"));
  create(m_alice,
         session_yaml("org/team",
                      "access_policy:\n  create_sessions: [\"" + m_bob.key_hash + "\"]\n"));
  EXPECT_EQ(upload(m_bob, session_yaml("org/other")).status, 403);  // org admits only alice
  EXPECT_EQ(upload(m_bob, session_yaml("org/team/app")).status, 201);
  EXPECT_EQ(upload(m_alice, session_yaml("org/team/app2")).status, 403);
  EXPECT_EQ(upload(m_bob, session_yaml("org/team/app/part")).status, 201);  // bob created app
  EXPECT_EQ(upload(m_alice, session_yaml("org/missing/app")).status, 404);
}

TEST_F(SessionsTest, NamespaceHashPinsTheNamespaceVersionAtCreation)
{
  const auto first = create(m_alice, session_yaml("shop"));
  const auto second =
      json_of(upload(m_alice, with_predecessor(session_yaml("shop", salt_line(1)), first)))
          .at("hash")
          .get<std::string>();
  const auto stale =
      upload(m_alice, session_yaml("shop/db", "namespace_hash: \"" + first + "\"\n"));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json_of(stale).at("current"), second);
  EXPECT_EQ(upload(m_alice, session_yaml("shop/db", "namespace_hash: \"" + second + "\"\n")).status,
            201);
  const auto top = upload(m_alice, session_yaml("solo", "namespace_hash: \"" + second + "\"\n"));
  EXPECT_EQ(top.status, 400);
  EXPECT_NE(messages_of(top).find("has no namespace"), std::string::npos);
  const auto with_predecessor_too = upload(
      m_alice,
      with_predecessor(session_yaml("shop/db", "namespace_hash: \"" + second + "\"\n"), second));
  EXPECT_EQ(with_predecessor_too.status, 400);  // before the predecessor is even looked at
  EXPECT_NE(messages_of(with_predecessor_too).find("cannot be combined with predecessor"),
            std::string::npos)
      << with_predecessor_too.body;
}

// access_policy given as a secret: the owners' certificate lives in one session, exported to the
// sessions whose update list names it.
TEST_F(SessionsTest, AnAccessListEntryCanBeACertificateImportedFromAnotherSession)
{
  const auto bob_certificate =
      x509::issue_certificate(x509::CertificateSpec{.common_name = "bob"}, m_bob.private_key, {});
  ASSERT_TRUE(bob_certificate);
  auto indented = *bob_certificate;
  for (std::size_t at = indented.find('\n'); at != std::string::npos && at + 1 < indented.size();
       at = indented.find('\n', at + 1)) {
    indented.insert(at + 1, "      ");
  }
  create(m_alice,
         session_yaml("owners",
                      "secrets:\n  - name: owner\n    kind: x509\n    value: |\n      " + indented
                          + "    export:\n      - session: app\n"));
  const auto app = create(m_alice,
                          session_yaml("app",
                                       "access_policy:\n  update: [CREATOR, \"$$SCONE::owner$$\"]\n"
                                       "secrets:\n  - name: owner\n    import:\n"
                                       "      session: owners\n      secret: owner\n"));
  const auto stranger = new_client();
  EXPECT_EQ(upload(stranger, with_predecessor(session_yaml("app", salt_line(1)), app)).status, 403);
  const auto by_bob = upload(
      m_bob,
      with_predecessor(session_yaml("app",
                                    "access_policy:\n  update: [CREATOR, \"$$SCONE::owner$$\"]\n"
                                    "secrets:\n  - name: owner\n    import:\n"
                                    "      session: owners\n      secret: owner\n"
                                        + salt_line(2)),
                       app));
  EXPECT_EQ(by_bob.status, 200) << by_bob.body;

  const auto not_a_certificate =
      upload(m_alice,
             session_yaml("other",
                          "access_policy:\n  update: [\"$$SCONE::pw$$\"]\n"
                          "secrets:\n  - name: pw\n    kind: ascii\n"));
  EXPECT_EQ(not_a_certificate.status, 400);
  EXPECT_NE(messages_of(not_a_certificate).find("expected a certificate"), std::string::npos)
      << not_a_certificate.body;
}

// As Scontain's tutorials share one access policy in a namespace: a config-fragment secret of one
// session, imported by another as `access_policy: $$SCONE::access_policy$$`.
TEST_F(SessionsTest, AnAccessPolicyCanBeAConfigFragmentImportedFromTheNamespace)
{
  const auto carol = new_client();
  create(m_alice, session_yaml("ns"));
  const auto policy_session = [&](const std::string& readers) {
    return session_yaml("ns/policy",
                        "secrets:\n"
                        "  - name: access_policy\n"
                        "    kind: config-fragment\n"
                        "    value:\n"
                        "      read: [CREATOR, "
                            + readers
                            + "]\n"
                              "      update: [CREATOR, "
                            + carol.key_hash
                            + "]\n"
                              "    export:\n"
                              "      - namespace: ns\n");
  };
  const auto policy = create(m_alice, policy_session(m_bob.key_hash));
  const std::string app_yaml =
      "access_policy: $$SCONE::access_policy$$\n"
      "secrets:\n"
      "  - name: access_policy\n"
      "    import:\n"
      "      session: ../policy\n"
      "      secret: access_policy\n";
  const auto app = create(m_alice, session_yaml("ns/app", app_yaml));
  ASSERT_FALSE(app.empty());
  // Enforced as if written inline: Bob reads, Carol updates, a stranger does neither.
  EXPECT_EQ(read(m_bob, "ns/app").status, 200);
  EXPECT_EQ(read(m_alice, "ns/app").status, 200);
  const auto stranger = new_client();
  EXPECT_EQ(read(stranger, "ns/app").status, 403);
  EXPECT_EQ(upload(stranger, with_predecessor(session_yaml("ns/app", app_yaml + salt_line(1)), app))
                .status,
            403);
  const auto by_carol =
      upload(carol, with_predecessor(session_yaml("ns/app", app_yaml + salt_line(2)), app));
  ASSERT_EQ(by_carol.status, 200) << by_carol.body;
  // A changed source counts at the next check: Bob is no longer a reader.
  ASSERT_EQ(upload(m_alice, with_predecessor(policy_session(stranger.key_hash), policy)).status,
            200);
  EXPECT_EQ(read(m_bob, "ns/app").status, 403);
  EXPECT_EQ(read(stranger, "ns/app").status, 200);
  // A source that stops exporting it admits nobody, not even the creator.
  const auto current_policy = json_of(read(m_alice, "ns/policy")).at("hash").get<std::string>();
  auto unexported = policy_session(stranger.key_hash);
  unexported.erase(unexported.find("    export:"));
  ASSERT_EQ(upload(m_alice, with_predecessor(unexported, current_policy)).status, 200);
  EXPECT_EQ(read(m_alice, "ns/app").status, 403);
  EXPECT_EQ(read(stranger, "ns/app").status, 403);
}

TEST_F(SessionsTest, CurrentVersionsOfManySessionsInOneRequest)
{
  const auto first = create(m_alice, session_yaml("one"));
  const auto second =
      json_of(upload(m_alice, with_predecessor(session_yaml("one", salt_line(1)), first)))
          .at("hash")
          .get<std::string>();
  create(m_bob, session_yaml("bobs"));  // alice may not read it
  const auto batch = [this](const std::string& body) {
    return m_cas->handle(CasRequest{.requester = m_alice.key_hash,
                                    .method = "POST",
                                    .path = "/v1/session-versions",
                                    .content_type = "application/json",
                                    .body = body});
  };
  const auto answer = batch(R"({"names": ["one", "bobs", "missing"]})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto sessions = json_of(answer).at("sessions");
  EXPECT_EQ(sessions.at("one").at("hash"), second);
  EXPECT_EQ(sessions.at("one").at("predecessor"), first);
  EXPECT_EQ(sessions.at("one").at("creator"), m_alice.key_hash);
  EXPECT_TRUE(sessions.at("missing").is_null());
  EXPECT_FALSE(sessions.contains("bobs")) << "a session alice may not read is left out";
  EXPECT_EQ(batch(R"({"names": ["../x"]})").status, 400);
  EXPECT_EQ(batch("not json").status, 400);
  EXPECT_EQ(get(m_alice.key_hash, "/v1/session-versions").status, 405);
  EXPECT_EQ(m_cas
                ->handle(CasRequest{
                    .method = "POST", .path = "/v1/session-versions", .body = R"({"names": []})"})
                .status,
            401);
}

TEST_F(SessionsTest, SessionInAMissingNamespaceIsNotFound)
{
  const auto response = upload(m_alice, session_yaml("shop/db"));
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(messages_of(response).find("'shop'"), std::string::npos);
}

TEST_F(SessionsTest, OnlyTheCreatorMayReadByDefault)
{
  create(m_alice, session_yaml("demo"));
  EXPECT_EQ(read(m_bob, "demo").status, 403);
  EXPECT_EQ(read(m_alice, "demo").status, 200);
}

TEST_F(SessionsTest, AnyAndNoneApplyToEveryone)
{
  create(m_alice,
         session_yaml("open", "access_policy:\n  read: [\"ANY\"]\n  update: [\"NONE\"]\n"));
  EXPECT_EQ(read(m_bob, "open").status, 200);
  const auto hash = json_of(read(m_bob, "open")).at("hash").get<std::string>();
  EXPECT_EQ(upload(m_alice, with_predecessor(session_yaml("open"), hash)).status, 403);
}

TEST_F(SessionsTest, AnyNextToOtherEntriesIsRefused)
{
  const auto response =
      upload(m_alice, session_yaml("demo", "access_policy:\n  read: [\"ANY\", \"CREATOR\"]\n"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(messages_of(response).find("access_policy.read: ANY and NONE must be the only entry"),
            std::string::npos);
}

TEST_F(SessionsTest, UnsupportedAccessEntriesAreRefused)
{
  for (const auto* entry : {"\"$$SCONE::owner$$\"", "{signer: \"x\"}", "\"not-a-key-hash\""}) {
    const auto response = upload(
        m_alice, session_yaml("demo", std::string("access_policy:\n  update: [") + entry + "]\n"));
    EXPECT_EQ(response.status, 400) << entry;
  }
}

TEST_F(SessionsTest, CertificateEntryAdmitsItsKey)
{
  auto certificate =
      x509::issue_certificate({.common_name = "bob"}, m_bob.private_key, std::nullopt);
  ASSERT_TRUE(certificate);
  nlohmann::ordered_json document = {
      {"version", "0.3.10"}, {"name", "demo"}, {"access_policy", {{"read", {*certificate}}}}};
  ASSERT_EQ(upload(m_alice, model::to_yaml(document)).status, 201);
  EXPECT_EQ(read(m_bob, "demo").status, 200);
  EXPECT_EQ(read(m_alice, "demo").status, 403);
}

TEST_F(SessionsTest, ImportOfASecretThatIsNotExportedIsRefusedWithTheProblem)
{
  create(m_alice, session_yaml("shop"));
  create(m_alice,
         session_yaml("shop/db", "secrets:\n  - name: \"password\"\n    kind: \"ascii\"\n"));
  const auto response =
      upload(m_alice,
             session_yaml("shop/web",
                          "secrets:\n  - name: \"password\"\n    import:\n"
                          "      session: \"../db\"\n      secret: \"password\"\n"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(messages_of(response),
            "session 'shop/web' is not valid | session 'shop/web': secrets[0].import.secret: "
            "session 'shop/db' does not export secret 'password' to 'shop/web'");
}

// Scontain's own sessions write `export: {session: X}`: the CAS honours it as a list of one.
TEST_F(SessionsTest, ExportWrittenAsOneMappingIsHonoured)
{
  create(m_alice, session_yaml("shop"));
  create(m_alice,
         session_yaml("shop/db",
                      "secrets:\n  - name: \"password\"\n    kind: \"ascii\"\n"
                      "    export:\n      session: \"shop/web\"\n"
                      "  - name: \"shared\"\n    kind: \"ascii\"\n"
                      "    export: {namespace: \"shop\"}\n"));
  const auto import = [](const std::string& secret) {
    return "  - name: \"" + secret + "\"\n    import:\n      session: \"../db\"\n"
           + "      secret: \"" + secret + "\"\n";
  };
  EXPECT_EQ(upload(m_alice,
                   session_yaml("shop/web", "secrets:\n" + import("password") + import("shared")))
                .status,
            201);
  const auto refused =
      upload(m_alice, session_yaml("shop/other", "secrets:\n" + import("password")));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(messages_of(refused),
            "session 'shop/other' is not valid | session 'shop/other': secrets[0].import.secret: "
            "session 'shop/db' does not export secret 'password' to 'shop/other'");
  EXPECT_EQ(upload(m_alice, session_yaml("shop/other", "secrets:\n" + import("shared"))).status,
            201);
  const auto unknown =
      upload(m_alice,
             session_yaml(
                 "shop/typo",
                 "secrets:\n  - name: \"x\"\n    kind: \"ascii\"\n    export: {sesion: \"a\"}\n"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(messages_of(unknown).find("secrets[0].export.sesion"), std::string::npos)
      << messages_of(unknown);
}

// Sessions that import from each other in a ring reach the CAS one at a time, so the first
// of them names a source that is not there yet.
TEST_F(SessionsTest, ImportFromASessionNotUploadedYetIsAccepted)
{
  create(m_alice, session_yaml("shop"));
  const auto response =
      upload(m_alice,
             session_yaml("shop/web",
                          "secrets:\n  - name: \"password\"\n    import:\n"
                          "      session: \"../db\"\n      secret: \"password\"\n"));
  EXPECT_EQ(response.status, 201) << messages_of(response);
}

TEST_F(SessionsTest, RestartKeepsEverySessionAndItsCurrentHash)
{
  create(m_alice, session_yaml("shop"));
  const auto first = create(m_alice, session_yaml("shop/db"));
  const auto second =
      json_of(upload(m_alice, with_predecessor(session_yaml("shop/db"), first))).at("hash");
  const auto shop = json_of(read(m_alice, "shop")).at("hash");

  reopen();
  EXPECT_EQ(json_of(read(m_alice, "shop")).at("hash"), shop);
  EXPECT_EQ(json_of(read(m_alice, "shop/db")).at("hash"), second);
  EXPECT_EQ(read(m_alice, "shop/db", "hash=" + first).status, 200);
  EXPECT_EQ(upload(m_alice, with_predecessor(session_yaml("shop/db"), first)).status, 409);
}

TEST_F(SessionsTest, MalformedSessionsAreRefused)
{
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 10; ++level) {
    const auto previous = "*a" + std::to_string(level - 1);
    bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [" + previous;
    for (int i = 1; i < 10; ++i) {
      bomb += ", " + previous;
    }
    bomb += "]\n";
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"broken YAML", "name: \"demo\nversion: [\n"},
      {"a list", "- name: demo\n"},
      {"an alias bomb", "version: \"0.3.10\"\nname: \"demo\"\n" + bomb},
      {"no name", "version: \"0.3.10\"\n"},
      {"a relative name", session_yaml("../x")},
      {"a name with an empty segment", session_yaml("a//b")},
      {"creator set", session_yaml("demo", "creator: \"" + m_alice.key_hash + "\"\n")},
      {"a short predecessor", with_predecessor(session_yaml("demo"), "abc")},
      {"an empty body", ""},
  };
  for (const auto& [what, yaml] : cases) {
    const auto response = upload(m_alice, yaml);
    EXPECT_EQ(response.status, 400) << what << ": " << response.body;
    EXPECT_FALSE(messages_of(response).empty()) << what;
  }
  EXPECT_EQ(messages_of(upload(m_alice, session_yaml("demo", "creator: \"x\"\n"))),
            "creator is set by CAS; remove it from the session");
}

TEST_F(SessionsTest, ConcurrentUpdatesFromOnePredecessorLetExactlyOneWin)
{
  const auto hash = create(m_alice, session_yaml("demo"));
  std::atomic<int> succeeded = 0;
  std::atomic<int> conflicts = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const auto yaml = with_predecessor(session_yaml("demo", salt_line(i)), hash);
      const auto status = upload(m_alice, yaml).status;
      if (status == 200) {
        ++succeeded;
      } else if (status == 409) {
        ++conflicts;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(conflicts, 7);
}

// Uploads are checked and their secrets made side by side, on snapshots; the writer takes what
// was prepared only if nothing it read changed, so concurrency never lets a stale decision through.
TEST_F(SessionsTest, ConcurrentUploadsIntoOneNamespaceWhileItsExporterRollsStayConsistent)
{
  const std::string exporter_body =
      "secrets:\n  - name: db_password\n    kind: ascii\n    export:\n      - namespace: shop\n";
  create(m_alice, session_yaml("shop"));
  auto exporter = create(m_alice, session_yaml("shop/db", exporter_body + "    size: 10\n"));
  std::vector<std::thread> threads;
  std::atomic<int> created = 0;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      const auto yaml = session_yaml("shop/app-" + std::to_string(i),
                                     "secrets:\n  - name: pw\n    import:\n"
                                     "      session: ../db\n      secret: db_password\n"
                                     "  - name: own\n    kind: ascii\n");
      created += upload(m_alice, yaml).status == 201 ? 1 : 0;
    });
  }
  for (int size = 11; size < 15; ++size) {  // rolls the exported value meanwhile
    const auto rolled = upload(
        m_alice,
        with_predecessor(
            session_yaml("shop/db", exporter_body + "    size: " + std::to_string(size) + "\n"),
            exporter));
    ASSERT_EQ(rolled.status, 200) << rolled.body;
    exporter = json_of(rolled).at("hash").get<std::string>();
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(created, 16);
  std::set<std::string> own_values;
  for (int i = 0; i < 16; ++i) {
    const auto name = "shop/app-" + std::to_string(i);
    EXPECT_EQ(read(m_alice, name).status, 200) << name;
    const auto secrets = stored_secrets(name);
    ASSERT_EQ(secrets.count("own"), 1U) << name;
    own_values.insert(secrets.at("own").value);
  }
  EXPECT_EQ(own_values.size(), 16U) << "two sessions got the same generated value";
  EXPECT_EQ(stored_secrets("shop/db").at("db_password").value.size(), 14U);
}

TEST_F(SessionsTest, GeneratedMeshSessionsAreAccepted)
{
  const std::string root =
      SCONECTL_SOURCE_DIR "/tests/golden/mesh/three-services/expected/policies/";
  for (const auto* file : {"shop-4711.yaml",
                           "shop-4711/db.yaml",
                           "shop-4711/backend.yaml",
                           "shop-4711/frontend.yaml"}) {
    const auto response = upload(m_alice, sconectl::testing::read_file(root + file));
    EXPECT_EQ(response.status, 201) << file << ": " << response.body;
  }
  const auto db = stored_secrets("shop-4711/db");
  const auto backend = stored_secrets("shop-4711/backend");
  ASSERT_TRUE(db.count("db_ca") && backend.count("backend_cert"));
  EXPECT_TRUE(x509::is_signed_by(backend.at("backend_cert").value, db.at("db_ca").value));
  EXPECT_EQ(backend.count("api_token"), 0U);  // explicit values are not generated
}

}  // namespace
}  // namespace sconectl::cas::testing
