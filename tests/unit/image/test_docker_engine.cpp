#include "sconectl/image/docker_engine.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace sconectl::image {
namespace {

// Answers GET requests from a table of path -> response, and records the paths asked for.
class TableTransport final : public EngineTransport {
 public:
  explicit TableTransport(std::map<std::string, EngineResponse> answers,
                          std::vector<std::string>& asked)
      : m_answers(std::move(answers)), m_asked(asked)
  {
  }
  Result<EngineResponse> get(const std::string& path) override
  {
    m_asked.push_back(path);
    const auto found = m_answers.find(path);
    return found == m_answers.end() ? EngineResponse{404, R"({"message":"no such image"})"}
                                    : found->second;
  }

 private:
  std::map<std::string, EngineResponse> m_answers;
  std::vector<std::string>& m_asked;
};

class DockerEngineTest : public ::testing::Test {
 protected:
  DockerEngine engine(std::map<std::string, EngineResponse> answers)
  {
    return DockerEngine(std::make_unique<TableTransport>(std::move(answers), asked),
                        "DOCKER_HOST=unix:///run/test.sock");
  }
  std::vector<std::string> asked;
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

}  // namespace
}  // namespace sconectl::image
