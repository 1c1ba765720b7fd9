#include "sconectl/manifest/command_line.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

using Words = std::vector<std::string>;

TEST(SplitCommandTest, SplitsLikeAShellWithoutExpanding)
{
  EXPECT_EQ(split_command("python3 print_env.py"), (Words{"python3", "print_env.py"}));
  EXPECT_EQ(split_command("  a   b\tc "), (Words{"a", "b", "c"}));
  EXPECT_EQ(split_command("echo 'x y' \"a \\\"b\\\" $HOME\" c\\ d"),
            (Words{"echo", "x y", "a \"b\" $HOME", "c d"}));
  EXPECT_EQ(split_command("''"), (Words{""}));
  EXPECT_EQ(split_command(""), Words{});
}

TEST(SplitCommandTest, RejectsUnbalancedQuotes)
{
  EXPECT_EQ(split_command("echo 'x"), std::nullopt);
  EXPECT_EQ(split_command("echo \"x"), std::nullopt);
  EXPECT_EQ(split_command("echo x\\"), std::nullopt);
}

}  // namespace
}  // namespace sconectl::manifest
