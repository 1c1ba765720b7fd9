#include "fake_process_runner.hpp"
#include "sconectl/image/docker_cli.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace sconectl::image {
namespace {

using testing::FakeProcessRunner;

TEST(DockerCliTest, BuildPassesEveryValueAsItsOwnArgument)
{
  FakeProcessRunner runner;
  runner.on(FakeProcessRunner::args_start_with({"build"}),
            FakeProcessRunner::reply(0, "Step 1/2 : FROM x\nStep 2/2 : CMD [\"a\"]\n"));
  DockerCli docker(runner);
  std::vector<std::string> lines;
  const auto built =
      docker.build(BuildRequest{.context_dir = "/tmp/ctx dir",
                                .tag = "registry.example.com/a/b:1",
                                .labels = {{"dev.sconectl.service", "{\"x\": \"y; rm -rf /\"}"}}},
                   [&](std::string_view line) { lines.emplace_back(line); });
  ASSERT_TRUE(built) << built.error().message;
  ASSERT_EQ(runner.commands.size(), 1U);
  EXPECT_EQ(runner.commands[0].program, "docker");
  EXPECT_EQ(runner.commands[0].args,
            (std::vector<std::string>{"build",
                                      "--file",
                                      "/tmp/ctx dir/Dockerfile",
                                      "--tag",
                                      "registry.example.com/a/b:1",
                                      "--label",
                                      "dev.sconectl.service={\"x\": \"y; rm -rf /\"}",
                                      "/tmp/ctx dir"}));
  EXPECT_EQ(lines, (std::vector<std::string>{"Step 1/2 : FROM x", "Step 2/2 : CMD [\"a\"]"}));
}

TEST(DockerCliTest, AFailedBuildNamesTheStepAndKeepsTheOutput)
{
  FakeProcessRunner runner;
  runner.on(
      FakeProcessRunner::args_start_with({"build"}),
      FakeProcessRunner::reply(1,
                               "Step 1/3 : FROM x\nStep 2/3 : RUN [\"/bin/sh\",\"-c\",\"false\"]\n"
                               " ---> Running in 123\n",
                               "The command '/bin/sh -c false' returned a non-zero code: 1\n"));
  DockerCli docker(runner);
  const auto built = docker.build(BuildRequest{.context_dir = "/c", .tag = "t"}, {});
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().message,
            "docker build failed at step 2/3 (RUN [\"/bin/sh\",\"-c\",\"false\"]): The command "
            "'/bin/sh -c false' returned a non-zero code: 1");
  EXPECT_NE(built.error().details.find("Running in 123"), std::string::npos);
}

TEST(DockerCliTest, ExplainsADaemonThatIsDown)
{
  FakeProcessRunner runner;
  runner.on(
      FakeProcessRunner::args_start_with({"version"}),
      FakeProcessRunner::reply(1,
                               "",
                               "Cannot connect to the Docker daemon at "
                               "unix:///var/run/docker.sock. Is the docker daemon running?\n"));
  DockerCli docker(runner);
  ::unsetenv("DOCKER_HOST");
  const auto version = docker.server_version();
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().message,
            "cannot reach the Docker daemon (the default socket). Start it (sudo systemctl start "
            "docker, or scripts/infra/docker.sh here), or set DOCKER_HOST to a running engine.");
}

// "permission denied" on the daemon's socket is about this user, not about a registry login.
TEST(DockerCliTest, ExplainsASocketThatRefusesThisUser)
{
  FakeProcessRunner runner;
  runner.on(FakeProcessRunner::args_start_with({"version"}),
            FakeProcessRunner::reply(1,
                                     "",
                                     "permission denied while trying to connect to the Docker "
                                     "daemon socket at unix:///var/run/docker.sock: Get "
                                     "\"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version\": dial "
                                     "unix /var/run/docker.sock: connect: permission denied\n"));
  DockerCli docker(runner);
  ::unsetenv("DOCKER_HOST");
  const auto version = docker.server_version();
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().message,
            "the Docker daemon (the default socket) refused this user. Run as a member of the "
            "'docker' group (or root), or set DOCKER_HOST to an engine you may use.");
}

TEST(DockerCliTest, ExplainsAMissingDockerCli)
{
  FakeProcessRunner runner;  // no rules: every command fails to start
  DockerCli docker(runner, "docker");
  const auto version = docker.server_version();
  ASSERT_FALSE(version);
  EXPECT_NE(
      version.error().message.find("Install the Docker CLI (Debian: apt-get install docker.io)"),
      std::string::npos);
}

TEST(DockerCliTest, ExplainsRefusedPushesAndTheCredentialHelperTrap)
{
  testing::TempDir config;
  FakeProcessRunner runner;
  runner.on(FakeProcessRunner::args_start_with({"push"}),
            FakeProcessRunner::reply(1, "", "unauthorized: authentication required\n"));
  DockerCli docker(runner);
  ::setenv("DOCKER_CONFIG", config.path().c_str(), 1);
  const auto refused = docker.push("registry.example.com/a/b:1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "docker push registry.example.com/a/b:1 was refused by the registry: not logged in or "
            "not allowed. Run 'docker login <registry>' (with the same DOCKER_CONFIG), then apply "
            "again.");

  config.write("config.json", R"({"credsStore": "desktop"})");
  FakeProcessRunner helper_runner;
  helper_runner.on(FakeProcessRunner::args_start_with({"push"}),
                   FakeProcessRunner::reply(1,
                                            "",
                                            "error getting credentials - err: exec: "
                                            "\"docker-credential-desktop\": not found\n"));
  DockerCli helper_docker(helper_runner);
  const auto trapped = helper_docker.push("registry.example.com/a/b:1");
  ::unsetenv("DOCKER_CONFIG");
  ASSERT_FALSE(trapped);
  EXPECT_EQ(trapped.error().message,
            "docker push registry.example.com/a/b:1 failed: " + (config.path() / "config.json").string()
                + " sends credentials to the helper 'docker-credential-desktop' (credsStore), which "
                  "failed. Remove the \"credsStore\" entry or install that helper, then run docker "
                  "login again.");
}

TEST(DockerCliTest, PushReturnsTheRegistryDigest)
{
  FakeProcessRunner runner;
  const std::string digest = "sha256:" + std::string(64, 'c');
  runner.on(FakeProcessRunner::args_start_with({"push"}),
            FakeProcessRunner::reply(
                0, "The push refers to repository [r/a]\n1: digest: " + digest + " size: 528\n"));
  DockerCli docker(runner);
  EXPECT_EQ(docker.push("r/a:1"), digest);
}

TEST(DockerCliTest, InspectReadsLabelsAndReportsAbsentImages)
{
  FakeProcessRunner runner;
  runner.on(
      FakeProcessRunner::args_start_with({"image", "inspect", "--format", "{{json .}}", "present"}),
      FakeProcessRunner::reply(0,
                               R"({"Id":"sha256:aa","RepoDigests":["r@sha256:bb"],)"
                               R"("Config":{"Labels":{"k":"v"},"Env":["PATH=/bin"]}})"));
  runner.on(FakeProcessRunner::args_start_with({"image", "inspect"}),
            FakeProcessRunner::reply(1, "", "Error: No such image: absent\n"));
  DockerCli docker(runner);
  const auto present = docker.inspect("present");
  ASSERT_TRUE(present && *present);
  EXPECT_EQ((*present)->id, "sha256:aa");
  EXPECT_EQ((*present)->labels.at("k"), "v");
  EXPECT_EQ((*present)->env, std::vector<std::string>{"PATH=/bin"});
  const auto absent = docker.inspect("absent");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
}

TEST(FailedBuildStepTest, ReadsLegacyAndBuildKitOutput)
{
  EXPECT_EQ(failed_build_step("Step 1/4 : FROM a\nStep 3/4 : RUN x\nerror"), "step 3/4 (RUN x)");
  EXPECT_EQ(failed_build_step("#5 [2/3] COPY app/ /app/\n#6 [3/3] RUN make\n#6 ERROR"),
            "step 3/3 (RUN make)");
  EXPECT_EQ(failed_build_step("nothing"), "");
}

}  // namespace
}  // namespace sconectl::image
