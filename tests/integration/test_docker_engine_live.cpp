// The Engine API lookups against the real dockerd, side by side with the Docker CLI they replace:
// the same answers, the same error class. Run by docker_engine_test.sh, which starts the engine
// (scripts/infra) and passes the base image to look at in SCONECTL_TEST_IMAGE.
#include "sconectl/image/docker_engine.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sconectl::image {
namespace {

class DockerEngineLiveTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    const char* image = std::getenv("SCONECTL_TEST_IMAGE");
    ASSERT_NE(image, nullptr) << "run through tests/integration/docker_engine_test.sh";
    m_image = image;
    const auto socket = engine_socket(manifest::process_environment());
    ASSERT_TRUE(socket) << "DOCKER_HOST must be a unix socket here";
    auto transport = unix_socket_transport(*socket);
    ASSERT_TRUE(transport);
    m_engine = std::make_unique<DockerEngine>(std::move(*transport), "unix://" + *socket);
  }

  PosixProcessRunner m_processes;
  DockerCli m_cli{m_processes};
  std::unique_ptr<DockerEngine> m_engine;
  std::string m_image;
};

TEST_F(DockerEngineLiveTest, VersionInspectAndListAgreeWithTheCli)
{
  EXPECT_EQ(m_engine->server_version().value(), m_cli.server_version().value());

  const auto by_cli = m_cli.inspect(m_image);
  const auto by_engine = m_engine->inspect(m_image);
  ASSERT_TRUE(by_cli && by_engine);
  ASSERT_TRUE(*by_cli && *by_engine) << m_image << " is not a local image";
  EXPECT_EQ((*by_engine)->id, (*by_cli)->id);
  EXPECT_EQ((*by_engine)->repo_digests, (*by_cli)->repo_digests);
  EXPECT_EQ((*by_engine)->labels, (*by_cli)->labels);
  EXPECT_EQ((*by_engine)->env, (*by_cli)->env);

  const std::string missing = "sconectl-no-such-image-" + std::to_string(::getpid()) + ":1";
  EXPECT_FALSE(m_cli.inspect(missing).value());
  EXPECT_FALSE(m_engine->inspect(missing).value());

  const auto listed_by_cli = m_cli.image_ids();
  const auto listed_by_engine = m_engine->image_ids();
  ASSERT_TRUE(listed_by_cli && listed_by_engine);
  EXPECT_EQ(*listed_by_engine, *listed_by_cli);
  EXPECT_EQ(listed_by_engine->count(m_image), 1U) << m_image;
}

TEST_F(DockerEngineLiveTest, ADaemonThatDoesNotAnswerIsTheSameErrorAsThroughTheCli)
{
  const std::string nowhere = "/tmp/sconectl-no-docker-" + std::to_string(::getpid()) + ".sock";
  auto transport = unix_socket_transport(nowhere, "DOCKER_HOST=unix://" + nowhere);
  ASSERT_TRUE(transport);
  DockerEngine engine(std::move(*transport), "DOCKER_HOST=unix://" + nowhere);
  ::setenv("DOCKER_HOST", ("unix://" + nowhere).c_str(), 1);
  const auto by_cli = m_cli.server_version();
  const auto by_engine = engine.server_version();
  ASSERT_FALSE(by_cli);
  ASSERT_FALSE(by_engine);
  EXPECT_EQ(by_engine.error().kind, by_cli.error().kind);
  EXPECT_EQ(by_engine.error().message, by_cli.error().message);
}

}  // namespace
}  // namespace sconectl::image
