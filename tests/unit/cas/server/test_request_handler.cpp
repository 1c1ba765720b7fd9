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
  EXPECT_EQ(wrong.allow, "GET");
  EXPECT_EQ(get(m_alice.key_hash, "/v1/sessions").status, 405);
  EXPECT_EQ(m_cas->handle(CasRequest{.method = "POST", .path = "/v1/version"}).status, 405);
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
