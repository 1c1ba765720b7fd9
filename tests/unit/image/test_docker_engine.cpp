#include "sconectl/image/docker_engine.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>

namespace sconectl::image {
namespace {

// Answers GET requests from a table of path -> response, and records the paths asked for.
class TableTransport final : public EngineTransport {
 public:
  TableTransport(std::map<std::string, EngineResponse> answers,
                 std::vector<std::string>& asked,
                 std::vector<EngineHeaders>& headers)
      : m_answers(std::move(answers)), m_asked(asked), m_headers(headers)
  {
  }
  Result<EngineResponse> send(const http1::Request& request) override
  {
    m_asked.push_back(request.target);
    m_headers.push_back(request.headers);
    const auto found = m_answers.find(request.target);
    return found == m_answers.end() ? EngineResponse{404, R"({"message":"no such image"})"}
                                    : found->second;
  }

 private:
  std::map<std::string, EngineResponse> m_answers;
  std::vector<std::string>& m_asked;
  std::vector<EngineHeaders>& m_headers;
};

class DockerEngineTest : public ::testing::Test {
 protected:
  DockerEngine engine(std::map<std::string, EngineResponse> answers,
                      manifest::VariableLookup environment = {})
  {
    return DockerEngine(std::make_unique<TableTransport>(std::move(answers), asked, headers),
                        "DOCKER_HOST=unix:///run/test.sock",
                        std::move(environment));
  }
  std::vector<std::string> asked;
  std::vector<EngineHeaders> headers;
};

TEST_F(DockerEngineTest, InspectReadsWhatTheCliPrints)
{
  auto docker = engine({{"/images/registry.example.com/api:1/json",
                         {200,
                          R"({"Id":"sha256:abc","RepoDigests":["registry.example.com/api@sha256:d"],
                              "Config":{"Labels":{"dev.sconectl.service":"{}"},"Env":["A=b"]}})"}}});
  const auto info = docker.inspect("registry.example.com/api:1");
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_TRUE(*info);
  EXPECT_EQ((*info)->id, "sha256:abc");
  EXPECT_EQ((*info)->repo_digests, std::vector<std::string>{"registry.example.com/api@sha256:d"});
  EXPECT_EQ((*info)->labels.at("dev.sconectl.service"), "{}");
  EXPECT_EQ((*info)->env, std::vector<std::string>{"A=b"});
  const auto missing = docker.inspect("registry.example.com/other:1");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  // Not a name: never sent as a path.
  EXPECT_FALSE(*docker.inspect("a?b"));
  EXPECT_EQ(asked.size(), 2U);
}

TEST_F(DockerEngineTest, ListsTaggedImagesOnly)
{
  auto docker = engine({{"/images/json",
                         {200,
                          R"([{"Id":"sha256:1","RepoTags":["a:1","b:2"]},
                              {"Id":"sha256:2","RepoTags":null},
                              {"Id":"sha256:3","RepoTags":["<none>:<none>"]}])"}}});
  const auto ids = docker.image_ids();
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, (std::map<std::string, std::string>{{"a:1", "sha256:1"}, {"b:2", "sha256:1"}}));
}

TEST_F(DockerEngineTest, EngineErrorsNameTheEngineAndItsMessage)
{
  auto docker = engine({{"/version", {200, R"({"Version":"20.10.24"})"}},
                        {"/images/x:1/json", {500, R"({"message":"layer store is broken"})"}}});
  EXPECT_EQ(docker.server_version().value(), "20.10.24");
  const auto broken = docker.inspect("x:1");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind, ErrorKind::process);
  EXPECT_NE(broken.error().message.find("DOCKER_HOST=unix:///run/test.sock"), std::string::npos);
  EXPECT_NE(broken.error().message.find("layer store is broken"), std::string::npos);
}

TEST(DockerEngineSocketTest, OnlyWhereTheCliWouldUseTheSameUnixSocket)
{
  sconectl::testing::TempDir dir;
  std::map<std::string, std::string> env{{"HOME", dir.path().string()}};
  const auto lookup = [&env](std::string_view name) -> std::optional<std::string> {
    const auto found = env.find(std::string(name));
    return found == env.end() ? std::nullopt : std::optional(found->second);
  };
  EXPECT_EQ(engine_socket(lookup), "/var/run/docker.sock");
  env["DOCKER_HOST"] = "unix:///run/user/docker.sock";
  EXPECT_EQ(engine_socket(lookup), "/run/user/docker.sock");
  env["DOCKER_HOST"] = "tcp://10.0.0.1:2376";
  EXPECT_EQ(engine_socket(lookup), std::nullopt);
  env["DOCKER_HOST"] = "ssh://builder";
  EXPECT_EQ(engine_socket(lookup), std::nullopt);
  env.erase("DOCKER_HOST");
  env["DOCKER_CONTEXT"] = "remote";
  EXPECT_EQ(engine_socket(lookup), std::nullopt);
  env["DOCKER_CONTEXT"] = "default";
  EXPECT_EQ(engine_socket(lookup), "/var/run/docker.sock");
  env.erase("DOCKER_CONTEXT");
  std::filesystem::create_directories(dir.path() / ".docker");
  std::ofstream(dir.path() / ".docker" / "config.json") << R"({"currentContext": "remote"})";
  EXPECT_EQ(engine_socket(lookup), std::nullopt);
}

TEST(DockerEngineSocketTest, AMissingSocketIsReportedAsTheCliReportsADaemonThatIsDown)
{
  sconectl::testing::TempDir dir;
  auto transport = unix_socket_transport((dir.path() / "docker.sock").string());
  ASSERT_TRUE(transport);
  DockerEngine docker(std::move(*transport),
                      "DOCKER_HOST=unix://" + (dir.path() / "docker.sock").string());
  const auto version = docker.server_version();
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().kind, ErrorKind::process);
  EXPECT_NE(version.error().message.find("cannot reach the Docker daemon"), std::string::npos)
      << version.error().message;
}

// The X-Registry-Auth value decoded: base64url, as the engine reads it.
nlohmann::json decoded_auth(const std::string& header)
{
  std::string standard = header;
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  std::string bytes(standard.size(), '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                     reinterpret_cast<const unsigned char*>(standard.data()),
                                     static_cast<int>(standard.size()));
  bytes.resize(static_cast<std::size_t>(std::max(length, 0)));
  while (!bytes.empty() && bytes.back() == '\0') {
    bytes.pop_back();
  }
  return nlohmann::json::parse(bytes, nullptr, false);
}

class RegistryAuthTest : public ::testing::Test {
 protected:
  void write_config(const std::string& json) { std::ofstream(dir.path() / "config.json") << json; }
  manifest::VariableLookup lookup()
  {
    return [this](std::string_view name) -> std::optional<std::string> {
      return name == "DOCKER_CONFIG" ? std::optional(dir.path().string()) : std::nullopt;
    };
  }
  sconectl::testing::TempDir dir;
};

TEST_F(RegistryAuthTest, SendsTheStoredLoginOfTheReferencesRegistry)
{
  // "sconectl:pa:ss" in base64: a password may hold a colon.
  // ghcr.io as `docker login` stores a token login: "me:" in auth, the token beside it.
  write_config(R"({"auths": {"127.0.0.1:5000": {"auth": "c2NvbmVjdGw6cGE6c3M="},
                             "https://index.docker.io/v1/": {"identitytoken": "hub-token"},
                             "ghcr.io": {"auth": "bWU6", "identitytoken": "gh-token"}}})");
  const auto local = registry_auth_header("127.0.0.1:5000/team/app:1", lookup());
  ASSERT_TRUE(local);
  EXPECT_EQ(local->find_first_of("+/\r\n"), std::string::npos) << *local;
  EXPECT_EQ(
      decoded_auth(*local),
      (nlohmann::json{
          {"serveraddress", "127.0.0.1:5000"}, {"username", "sconectl"}, {"password", "pa:ss"}}));
  const auto hub = registry_auth_header("library/alpine:3", lookup());
  ASSERT_TRUE(hub);
  EXPECT_EQ(decoded_auth(*hub)["identitytoken"], "hub-token");
  const auto token = registry_auth_header("ghcr.io/me/app:1", lookup());
  ASSERT_TRUE(token);
  EXPECT_EQ(decoded_auth(*token),
            (nlohmann::json{
                {"serveraddress", "ghcr.io"}, {"username", "me"}, {"identitytoken", "gh-token"}}));
  EXPECT_EQ(registry_auth_header("registry.example.com/app:1", lookup()), std::nullopt);
}

TEST_F(RegistryAuthTest, LeavesLoginsInACredentialHelperToTheCli)
{
  // registry.example.com has a stored login too: the helper named for it wins, as in the CLI.
  write_config(R"({"credsStore": "pass",
                   "auths": {"ghcr.io": {}, "registry.example.com": {"auth": "bWU6cGFzcw=="}},
                   "credHelpers": {"registry.example.com": "ecr-login"}})");
  EXPECT_EQ(registry_auth_header("ghcr.io/me/app:1", lookup()), std::nullopt);
  EXPECT_EQ(registry_auth_header("registry.example.com/app:1", lookup()), std::nullopt);
  EXPECT_EQ(registry_auth_header("registry.example.com/app:1", {}), std::nullopt);
}

TEST_F(DockerEngineTest, RegistryDigestAsksTheEngineWithTheStoredLogin)
{
  sconectl::testing::TempDir config;
  std::ofstream(config.path() / "config.json")
      << R"({"auths": {"127.0.0.1:5000": {"auth": "c2NvbmVjdGw6cGFzcw=="}}})";
  auto docker = engine(
      {{"/distribution/127.0.0.1:5000/app:1/json",
        {200,
         R"({"Descriptor": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": "sha256:feed", "size": 525}, "Platforms": []})"}},
       {"/distribution/127.0.0.1:5000/broken:1/json", {200, R"({"Descriptor": 7})"}}},
      [&config](std::string_view name) -> std::optional<std::string> {
        return name == "DOCKER_CONFIG" ? std::optional(config.path().string()) : std::nullopt;
      });
  EXPECT_EQ(docker.registry_digest("127.0.0.1:5000/app:1"), "sha256:feed");
  ASSERT_EQ(headers.size(), 1U);
  ASSERT_TRUE(headers[0].contains("X-Registry-Auth"));
  EXPECT_EQ(decoded_auth(headers[0].at("X-Registry-Auth"))["password"], "pass");
  // Gone from the registry, an answer that does not parse, not a name: no digest, no failure.
  EXPECT_EQ(docker.registry_digest("127.0.0.1:5000/gone:1"), std::nullopt);
  EXPECT_EQ(docker.registry_digest("127.0.0.1:5000/broken:1"), std::nullopt);
  EXPECT_EQ(docker.registry_digest("a?b"), std::nullopt);
  // Docker Hub's answer may come from a mirror: never asked.
  EXPECT_EQ(docker.registry_digest("library/alpine:3"), std::nullopt);
  EXPECT_EQ(asked.size(), 3U);
}

}  // namespace
}  // namespace sconectl::image
