#include "sconectl/util/process.hpp"

#include <gtest/gtest.h>

namespace sconectl {
namespace {

TEST(PosixProcessRunnerTest, PassesEveryValueAsItsOwnArgument)
{
  PosixProcessRunner runner;
  const auto result = runner.run(
      Command{.program = "printf", .args = {"[%s]\\n", "x y; rm -rf /", "$HOME", "'quoted'"}});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->out, "[x y; rm -rf /]\n[$HOME]\n['quoted']\n");
}

TEST(PosixProcessRunnerTest, ReportsExitCodeAndStderrWithoutFailing)
{
  PosixProcessRunner runner;
  const auto result = runner.run(Command{.program = "sh", .args = {"-c", "echo oops >&2; exit 3"}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->err, "oops\n");
}

TEST(PosixProcessRunnerTest, FailsWhenTheProgramDoesNotExist)
{
  PosixProcessRunner runner;
  const auto result = runner.run(Command{.program = "sconectl-no-such-program"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::process);
  EXPECT_EQ(result.error().message,
            "cannot start 'sconectl-no-such-program': No such file or directory");
}

TEST(PosixProcessRunnerTest, DrainsBothPipesWithoutDeadlock)
{
  // 1 MiB on each stream is far beyond a pipe buffer: a sequential reader would block forever.
  PosixProcessRunner runner;
  const auto result =
      runner.run(Command{.program = "sh",
                         .args = {"-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"},
                         .timeout = std::chrono::seconds(20)});
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->out.size(), 1048576U);
  EXPECT_EQ(result->err.size(), 1048576U);
}

TEST(PosixProcessRunnerTest, FeedsStdinAndSetsEnvironmentAndDirectory)
{
  PosixProcessRunner runner;
  const auto result = runner.run(Command{.program = "sh",
                                         .args = {"-c", "cat; echo \"$SCONECTL_TEST_VALUE\"; pwd"},
                                         .extra_env = {{"SCONECTL_TEST_VALUE", "a b"}},
                                         .working_dir = "/",
                                         .stdin_data = "input\n"});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->out, "input\na b\n/\n");
}

TEST(PosixProcessRunnerTest, KillsTheChildWhenTheTimeoutElapses)
{
  PosixProcessRunner runner;
  const auto started = std::chrono::steady_clock::now();
  const auto result = runner.run(
      Command{.program = "sleep", .args = {"30"}, .timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->exit_code, 128 + 9);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(DisplayStringTest, QuotesOnlyWhatAShellWouldSplit)
{
  EXPECT_EQ(to_display_string(Command{.program = "docker",
                                      .args = {"build", "-t", "reg:5000/app:1", "x y", "it's"}}),
            "docker build -t reg:5000/app:1 'x y' 'it'\\''s'");
}

}  // namespace
}  // namespace sconectl
