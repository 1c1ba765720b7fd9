#include "sconectl/image/docker_engine.hpp"
#include "sconectl/image/registry_client.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace sconectl::image {
namespace {

const std::string k_digest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string k_docker_v2 = "application/vnd.docker.distribution.manifest.v2+json";
// base64("sconectl:s3cret")
const std::string k_auth = "c2NvbmVjdGw6czNjcmV0";
const std::string k_basic = "Authorization: Basic c2NvbmVjdGw6czNjcmV0";

// Answers "METHOD url" from a table (404 for anything else) and records every request.
class RegistryTableTransport final : public RegistryTransport {
 public:
  RegistryTableTransport(std::map<std::string, std::vector<RegistryResponse>> answers,
                         std::vector<RegistryRequest>& asked)
      : m_answers(std::move(answers)), m_asked(asked)
  {
  }
  Result<RegistryResponse> send(const RegistryRequest& request) override
  {
    m_asked.push_back(request);
    auto found = m_answers.find(request.method + " " + request.url);
    if (found == m_answers.end() || found->second.empty()) {
      return RegistryResponse{.status = 404};
    }
    // Each answer once, the last one from then on.
    auto answer = found->second.front();
    if (found->second.size() > 1) {
      found->second.erase(found->second.begin());
    }
    if (answer.status == 0) {
      return fail(ErrorKind::network, "connection refused");
    }
    return answer;
  }

 private:
  std::map<std::string, std::vector<RegistryResponse>> m_answers;
  std::vector<RegistryRequest>& m_asked;
};

RegistryResponse manifest(const std::string& digest = k_digest,
                          const std::string& type = k_docker_v2)
{
  return RegistryResponse{
      .status = 200,
      .headers = {{"content-type", type}, {"docker-content-digest", digest}},
  };
}

RegistryResponse challenge(const std::string& header)
{
  return RegistryResponse{.status = 401, .headers = {{"www-authenticate", header}}};
}

bool has_header(const RegistryRequest& request, const std::string& line)
{
  return std::find(request.headers.begin(), request.headers.end(), line) != request.headers.end();
}

bool has_authorization(const RegistryRequest& request)
{
  return std::any_of(request.headers.begin(), request.headers.end(), [](const std::string& line) {
    return line.starts_with("Authorization:");
  });
}

class RegistryClientTest : public ::testing::Test {
 protected:
  void write_config(const std::string& json)
  {
    std::ofstream(config.path() / "config.json") << json;
  }
  void login() { write_config(R"({"auths": {"127.0.0.1:5000": {"auth": ")" + k_auth + R"("}}})"); }

  manifest::VariableLookup environment()
  {
    return [this](std::string_view name) -> std::optional<std::string> {
      return name == "DOCKER_CONFIG" ? std::optional(config.path().string()) : std::nullopt;
    };
  }

  RegistryClient client(std::map<std::string, std::vector<RegistryResponse>> answers)
  {
    return RegistryClient(RegistryClientOptions{
        .environment = environment(),
        .certs_dir = certs.path(),
        .connect = [this, answers = std::move(answers)](
                       const RegistryTrust& trust) -> Result<std::unique_ptr<RegistryTransport>> {
          trusted.push_back(trust.extra_ca_pem);
          return std::make_unique<RegistryTableTransport>(answers, asked);
        }});
  }

  sconectl::testing::TempDir config;
  sconectl::testing::TempDir certs;
  std::vector<RegistryRequest> asked;
  std::vector<std::string> trusted;
};

const std::string k_url = "https://127.0.0.1:5000/v2/team/app/manifests/1";

TEST_F(RegistryClientTest, BasicAuthHeadOfTheManifest)
{
  login();
  auto registry = client({{"HEAD " + k_url, {manifest()}}});
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), k_digest);
  ASSERT_EQ(asked.size(), 1U);
  EXPECT_EQ(asked[0].method, "HEAD");
  EXPECT_TRUE(has_header(asked[0], k_basic));
  EXPECT_TRUE(has_header(asked[0],
                         "Accept: application/vnd.oci.image.index.v1+json, "
                         "application/vnd.oci.image.manifest.v1+json, "
                         "application/vnd.docker.distribution.manifest.v2+json, "
                         "application/vnd.docker.distribution.manifest.list.v2+json"));
  // No tag: latest. An OCI index is a manifest it asked for (a media type with parameters too).
  auto oci = client({{"HEAD https://127.0.0.1:5000/v2/team/app/manifests/latest",
                      {manifest(k_digest, "application/vnd.oci.image.index.v1+json; charset=x")}}});
  EXPECT_EQ(oci.manifest_digest("127.0.0.1:5000/team/app"), k_digest);
}

TEST_F(RegistryClientTest, PrepareLoadsNothingForAnInjectedTransport)
{
  login();
  auto registry = client({{"HEAD " + k_url, {manifest()}}});
  registry.prepare();
  registry.prepare();
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), k_digest);
  EXPECT_EQ(asked.size(), 1U);
}

TEST_F(RegistryClientTest, TokenFlowWithTheStoredLogin)
{
  login();
  auto registry = client(
      {{"HEAD " + k_url,
        {challenge(R"(Bearer realm="https://auth.example.com/token",service="registry example",)"
                   R"(scope="repository:team/app:pull")"),
         manifest()}},
       {"GET https://auth.example.com/token?service=registry%20example&scope=repository%3Ateam%2F"
        "app%3Apull",
        {RegistryResponse{.status = 200, .body = R"({"token": "t0ken", "expires_in": 300})"}}}});
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), k_digest);
  ASSERT_EQ(asked.size(), 3U);
  EXPECT_TRUE(has_header(asked[0], k_basic));
  EXPECT_EQ(asked[1].method, "GET");
  EXPECT_TRUE(has_header(asked[1], k_basic));
  EXPECT_TRUE(has_header(asked[2], "Authorization: Bearer t0ken"));
  EXPECT_FALSE(has_header(asked[2], k_basic));
}

TEST_F(RegistryClientTest, AnonymousTokenWithoutALogin)
{
  // No config.json at all: asked without a login, as Docker would; access_token is a token too.
  auto registry =
      client({{"HEAD " + k_url,
               {challenge(R"(Bearer realm="https://auth.example.com/token?x=1")"), manifest()}},
              {"GET https://auth.example.com/token?x=1&scope=repository%3Ateam%2Fapp%3Apull",
               {RegistryResponse{.status = 200, .body = R"({"access_token": "anon"})"}}}});
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), k_digest);
  ASSERT_EQ(asked.size(), 3U);
  EXPECT_FALSE(has_authorization(asked[0]));
  EXPECT_FALSE(has_authorization(asked[1]));
  EXPECT_TRUE(has_header(asked[2], "Authorization: Bearer anon"));
}

TEST_F(RegistryClientTest, AnyErrorIsNoAnswer)
{
  login();
  const auto digest_after = [this](std::vector<RegistryResponse> answers) {
    auto registry =
        client({{"HEAD " + k_url, std::move(answers)},
                {"GET https://auth.example.com/token?scope=repository%3Ateam%2Fapp%3Apull",
                 {RegistryResponse{.status = 200, .body = R"({"token": "t"})"}}}});
    return registry.manifest_digest("127.0.0.1:5000/team/app:1");
  };
  const auto bearer = challenge(R"(Bearer realm="https://auth.example.com/token")");
  EXPECT_EQ(digest_after({RegistryResponse{.status = 404}}), std::nullopt);
  EXPECT_EQ(digest_after({RegistryResponse{.status = 0}}), std::nullopt);  // no connection
  EXPECT_EQ(digest_after({challenge(R"(Basic realm="registry")")}), std::nullopt);
  EXPECT_EQ(digest_after({bearer, bearer}), std::nullopt);  // 401 again with the token
  EXPECT_EQ(digest_after({challenge(R"(Bearer realm="http://auth.example.com/token")")}),
            std::nullopt);  // the login never goes in clear
  EXPECT_EQ(
      digest_after({manifest(k_digest, "application/vnd.docker.distribution.manifest.v1+json")}),
      std::nullopt);
  EXPECT_EQ(digest_after({manifest("sha256:feed")}), std::nullopt);
  EXPECT_EQ(digest_after({manifest("")}), std::nullopt);
  EXPECT_EQ(digest_after({RegistryResponse{.status = 307, .headers = {{"location", "/x"}}}}),
            std::nullopt);
  // A realm that answers no token.
  auto registry =
      client({{"HEAD " + k_url, {bearer}},
              {"GET https://auth.example.com/token?scope=repository%3Ateam%2Fapp%3Apull",
               {RegistryResponse{.status = 200, .body = R"({"token": "a\nb"})"}}}});
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), std::nullopt);
  // A connection that cannot be made as asked.
  RegistryClient unreachable(RegistryClientOptions{
      .environment = environment(),
      .certs_dir = certs.path(),
      .connect = [](const RegistryTrust&) -> Result<std::unique_ptr<RegistryTransport>> {
        return fail(ErrorKind::tls, "no");
      }});
  EXPECT_EQ(unreachable.manifest_digest("127.0.0.1:5000/team/app:1"), std::nullopt);
}

TEST_F(RegistryClientTest, AsksNothingItCannotAskAsDockerWould)
{
  auto registry = client({{"HEAD " + k_url, {manifest()}}});
  // Docker Hub, a digest, not a reference.
  EXPECT_EQ(registry.manifest_digest("team/app:1"), std::nullopt);
  EXPECT_EQ(registry.manifest_digest("docker.io/team/app:1"), std::nullopt);
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app@" + k_digest), std::nullopt);
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/Team/app:1"), std::nullopt);
  // Logins sconectl does not read.
  for (const auto* json :
       {R"({"credsStore": "pass", "auths": {"127.0.0.1:5000": {"auth": "c2NvbmVjdGw6czNjcmV0"}}})",
        R"({"credHelpers": {"127.0.0.1:5000": "secretservice"}})",
        R"({"auths": {"127.0.0.1:5000": {"auth": "c2NvbmVjdGw6", "identitytoken": "x"}}})",
        R"({"auths": {"127.0.0.1:5000": {}}})",
        R"({"auths": {"127.0.0.1:5000": {"auth": "bm8tY29sb24="}}})",
        R"({"auths": {"127.0.0.1:5000": {"auth": "!!!"}}})",
        R"({"auths": [])",
        "not json"}) {
    write_config(json);
    EXPECT_EQ(registry_credentials("127.0.0.1:5000", environment()), std::nullopt) << json;
    EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), std::nullopt) << json;
  }
  // A client certificate for the registry: the engine presents it, sconectl would not.
  write_config("{}");
  std::filesystem::create_directories(certs.path() / "127.0.0.1:5000");
  std::ofstream(certs.path() / "127.0.0.1:5000" / "client.cert") << "x";
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), std::nullopt);
  EXPECT_TRUE(asked.empty());
}

TEST_F(RegistryClientTest, ReadsLoginsAndTrustAsDockerDoes)
{
  // The login under a key with a scheme and a path; another host's helper does not matter.
  write_config(R"({"auths": {"https://127.0.0.1:5000/v1/": {"auth": ")" + k_auth
               + R"(", "email": "x@y"}}, "credHelpers": {"ghcr.io": "gh"}, "credsStore": ""})");
  const auto credentials = registry_credentials("127.0.0.1:5000", environment());
  ASSERT_TRUE(credentials);
  ASSERT_TRUE(credentials->login);
  EXPECT_EQ(credentials->login->username, "sconectl");
  EXPECT_EQ(credentials->login->password, "s3cret");
  // No login for another host: anonymous.
  const auto other = registry_credentials("registry.example.com", environment());
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->login);
  // The CA certificates of certs.d/<host>, beside the system store.
  std::filesystem::create_directories(certs.path() / "127.0.0.1:5000");
  std::ofstream(certs.path() / "127.0.0.1:5000" / "ca.crt") << "-----BEGIN CERTIFICATE-----";
  auto registry = client({{"HEAD " + k_url, {manifest()}}});
  EXPECT_EQ(registry.manifest_digest("127.0.0.1:5000/team/app:1"), k_digest);
  ASSERT_EQ(trusted.size(), 1U);
  EXPECT_EQ(trusted[0], "-----BEGIN CERTIFICATE-----\n");
  ASSERT_EQ(asked.size(), 1U);
  EXPECT_TRUE(has_header(asked[0], k_basic));
}

TEST_F(RegistryClientTest, FindsConfigJsonAsTheCliDoes)
{
  // $HOME/.docker/config.json when DOCKER_CONFIG is unset or empty; nothing to read without both.
  std::filesystem::create_directories(config.path() / ".docker");
  std::ofstream(config.path() / ".docker" / "config.json")
      << R"({"auths": {"127.0.0.1:5000": {"auth": ")" + k_auth + R"("}}})";
  for (const std::optional<std::string>& docker_config :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    const manifest::VariableLookup home = [&](std::string_view name) -> std::optional<std::string> {
      if (name == "HOME") {
        return config.path().string();
      }
      return name == "DOCKER_CONFIG" ? docker_config : std::nullopt;
    };
    const auto credentials = registry_credentials("127.0.0.1:5000", home);
    ASSERT_TRUE(credentials && credentials->login);
    EXPECT_EQ(credentials->login->username, "sconectl");
  }
  const manifest::VariableLookup nothing = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  EXPECT_EQ(registry_credentials("127.0.0.1:5000", nothing), std::nullopt);
}

TEST(BearerChallenge, ReadsTheParameters)
{
  const auto parsed = bearer_challenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/alpine:pull",error="a \"quoted\" word")");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(parsed->at("service"), "registry.docker.io");
  EXPECT_EQ(parsed->at("scope"), "repository:library/alpine:pull");
  EXPECT_EQ(parsed->at("error"), R"(a "quoted" word)");
  EXPECT_EQ(bearer_challenge("bearer realm=https://x/t, service=s")->at("service"), "s");
  EXPECT_EQ(bearer_challenge(R"(Basic realm="registry")"), std::nullopt);
  EXPECT_EQ(bearer_challenge(R"(Bearer realm="unterminated)"), std::nullopt);
  EXPECT_EQ(bearer_challenge("Bearer"), std::nullopt);
}

// The engine asks the registry through sconectl's client first, and itself only without an
// answer.
class NoEngine final : public EngineTransport {
 public:
  explicit NoEngine(std::vector<std::string>& asked) : m_asked(asked) {}
  Result<EngineResponse> send(const http1::Request& request) override
  {
    m_asked.push_back(request.target);
    return EngineResponse{404, R"({"message":"manifest unknown"})"};
  }

 private:
  std::vector<std::string>& m_asked;
};

TEST_F(RegistryClientTest, TheEngineIsAskedOnlyWithoutAnAnswer)
{
  login();
  std::vector<std::string> engine_asked;
  const auto engine = [&](std::map<std::string, std::vector<RegistryResponse>> answers) {
    return DockerEngine(std::make_unique<NoEngine>(engine_asked),
                        "the default socket",
                        environment(),
                        std::make_unique<RegistryClient>(client(std::move(answers))));
  };
  auto answered = engine({{"HEAD " + k_url, {manifest()}}});
  EXPECT_EQ(answered.registry_digest("127.0.0.1:5000/team/app:1"), k_digest);
  EXPECT_TRUE(engine_asked.empty());
  auto silent = engine({});
  EXPECT_EQ(silent.registry_digest("127.0.0.1:5000/team/app:1"), std::nullopt);
  EXPECT_EQ(engine_asked, std::vector<std::string>{"/distribution/127.0.0.1:5000/team/app:1/json"});
}

}  // namespace
}  // namespace sconectl::image
