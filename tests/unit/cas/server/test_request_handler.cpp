#include "cas_fixture.hpp"
#include "sconectl/version.hpp"

namespace sconectl::cas::testing {
namespace {

using RequestHandlerTest = CasTest;

TEST_F(RequestHandlerTest, VersionIsPublic)
{
  const auto response = get(std::nullopt, "/v1/version");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(json_of(response), (nlohmann::json{{"version", k_version}, {"api", "v1"}}));
}

TEST_F(RequestHandlerTest, SessionsNeedAClientCertificate)
{
  create(m_alice, session_yaml("demo"));
  const auto upload_without = m_cas->handle(CasRequest{.method = "POST",
                                                       .path = "/v1/sessions",
                                                       .content_type = "application/yaml",
                                                       .body = session_yaml("other")});
  EXPECT_EQ(upload_without.status, 401);
  EXPECT_EQ(messages_of(upload_without), "uploading a session needs a client certificate");
  EXPECT_EQ(get(std::nullopt, "/v1/sessions/demo").status, 401);
}

TEST_F(RequestHandlerTest, SessionsMustBeSentAsYaml)
{
  EXPECT_EQ(upload(m_alice, session_yaml("a"), "application/json").status, 415);
  EXPECT_EQ(upload(m_alice, session_yaml("b"), "").status, 415);
  EXPECT_EQ(upload(m_alice, session_yaml("c"), "application/x-yaml").status, 201);
  EXPECT_EQ(upload(m_alice, session_yaml("d"), "Text/YAML; charset=utf-8").status, 201);
}

TEST_F(RequestHandlerTest, UnknownPathsAndWrongMethodsAreRefusedAsJson)
{
  const auto unknown = get(m_alice.key_hash, "/v2/sessions");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(messages_of(unknown).empty());
  const auto wrong = m_cas->handle(
      CasRequest{.requester = m_alice.key_hash, .method = "DELETE", .path = "/v1/sessions/demo"});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "GET, HEAD");
  EXPECT_EQ(get(m_alice.key_hash, "/v1/sessions").status, 405);
  EXPECT_EQ(m_cas->handle(CasRequest{.method = "POST", .path = "/v1/version"}).status, 405);
}

// The method table of docs/cas.md, "HTTP methods".
TEST_F(RequestHandlerTest, EveryEndpointAnswersEachMethodAsDocumented)
{
  create(m_alice,
         session_yaml("demo",
                      "secrets:\n"
                      "  - name: public_value\n    kind: ascii\n    value: \"42\"\n"
                      "    export_public: true\n"
                      "  - name: private_value\n    kind: ascii\n    value: \"007\"\n"));
  const auto call = [this](const std::optional<std::string>& requester,
                           const std::string& method,
                           const std::string& path,
                           const std::string& query = "") {
    return m_cas->handle(
        CasRequest{.requester = requester, .method = method, .path = path, .query = query});
  };
  struct Row {
    std::string path;
    std::string query;
    int get;   // with Alice's certificate
    int head;  // with Alice's certificate
    std::string allow;
  };
  const std::vector<Row> rows{
      {"/v1/version", "", 200, 200, "GET, HEAD"},
      {"/v1/attestation/nonce", "", 200, 200, "GET, HEAD"},
      {"/v1/sessions/demo", "", 200, 200, "GET, HEAD"},
      {"/v1/values/session=demo,secret=public_value", "", 200, 405, "GET"},
      {"/v1/values/session=demo,secret=private_value", "", 403, 405, "GET"},
      {"/v1/values/session=demo", "", 200, 405, "GET"},
      {"/v1/sessions", "", 405, 405, "POST"},
      {"/v1/attestation", "", 405, 405, "POST"},
      {"/v1/session-versions", "", 405, 405, "POST"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.path);
    EXPECT_EQ(call(m_alice.key_hash, "GET", row.path).status, row.get);
    const auto head = call(m_alice.key_hash, "HEAD", row.path);
    EXPECT_EQ(head.status, row.head);
    if (row.head == 405) {
      EXPECT_EQ(head.allow, row.allow);
    }
    for (const std::string method : {"PUT", "DELETE", "PATCH", "OPTIONS"}) {
      for (const auto& requester :
           {std::optional<std::string>(m_alice.key_hash), std::optional<std::string>()}) {
        const auto answer = call(requester, method, row.path);
        EXPECT_EQ(answer.status, 405) << method;
        EXPECT_EQ(answer.allow, row.allow) << method;
        EXPECT_FALSE(messages_of(answer).empty());
      }
    }
  }
  // As Scontain's exercise checks with `curl -I`: HEAD on a value that is not public is 405, with
  // and without a client certificate, and so is HEAD on a public one: HEAD tells nothing about
  // which values exist.
  for (const auto& requester :
       {std::optional<std::string>(m_alice.key_hash), std::optional<std::string>()}) {
    for (const auto* secret : {"private_value", "public_value", "no_such_value"}) {
      EXPECT_EQ(
          call(requester, "HEAD", std::string("/v1/values/session=demo,secret=") + secret).status,
          405)
          << secret;
    }
    EXPECT_EQ(call(requester, "HEAD", "/v1/values/session=no-such-session").status, 405);
  }
  // Unknown paths are 404 whatever the method.
  EXPECT_EQ(call(m_alice.key_hash, "HEAD", "/v2/sessions").status, 404);
  EXPECT_EQ(call(m_alice.key_hash, "PUT", "/v2/sessions").status, 404);
}

TEST_F(RequestHandlerTest, PathTricksNeverReachAnotherSession)
{
  create(m_alice, session_yaml("shop"));
  create(m_alice, session_yaml("shop/db"));
  for (const auto* path : {"/v1/sessions/..",
                           "/v1/sessions/%2e%2e",
                           "/v1/sessions/shop/../shop",
                           "/v1/sessions/",
                           "/v1/sessions/shop//db",
                           "/v1/sessions/shop%2Fdb",
                           "/v1/sessions/shop%2fdb",
                           "/v1/sessions/%",
                           "/v1/sessions/shop%00",
                           "/v1/sessions/./shop",
                           "/v1/sessions/shop/",
                           "/v1/sessions/%2e%2e/%2e%2e/etc/passwd"}) {
    const auto status = get(m_alice.key_hash, path).status;
    EXPECT_TRUE(status == 400 || status == 404) << path << ": " << status;
  }
  EXPECT_EQ(get(m_alice.key_hash, "/v1/sessions/shop/db").status, 200);
  EXPECT_EQ(get(m_alice.key_hash, "/v1/sessions/sho%70").status, 200);  // an escaped letter
}

TEST_F(RequestHandlerTest, OlderVersionsNeedAWellFormedHashOfTheSameSession)
{
  const auto demo = create(m_alice, session_yaml("demo"));
  const auto other = create(m_alice, session_yaml("other"));
  EXPECT_EQ(read(m_alice, "demo", "hash=" + demo).status, 200);
  EXPECT_EQ(read(m_alice, "demo", "hash=" + other).status, 404);
  EXPECT_EQ(read(m_alice, "demo", "hash=abc").status, 400);
  EXPECT_EQ(read(m_alice, "demo", "hash=" + demo + "&hash=" + demo).status, 400);
  EXPECT_EQ(read(m_alice, "missing").status, 404);
}

}  // namespace
}  // namespace sconectl::cas::testing
