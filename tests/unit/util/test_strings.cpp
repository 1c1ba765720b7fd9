#include "sconectl/util/strings.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sconectl::strings {
namespace {

TEST(Strings, JoinPutsTheSeparatorBetweenItemsOnly)
{
  EXPECT_EQ(join(std::vector<std::string>{}, ", "), "");
  EXPECT_EQ(join(std::vector<std::string>{"a"}, ", "), "a");
  EXPECT_EQ(join(std::vector<std::string_view>{"a", "", "c"}, ", "), "a, , c");
}

TEST(Strings, TrimTakesHttpWhitespaceFromBothEndsOnly)
{
  EXPECT_EQ(trim(" \t a b \t "), "a b");
  EXPECT_EQ(trim("value\r\n"), "value\r\n");  // CR and LF only when asked for
  EXPECT_EQ(trim(" value\r\n", " \t\r\n"), "value");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t "), "");
  static_assert(trim("  x ") == "x");
}

TEST(Strings, AsciiLowerChangesOnlyAsciiLetters)
{
  EXPECT_EQ(ascii_lower("Content-Type: ABC xyz 09"), "content-type: abc xyz 09");
  EXPECT_EQ(ascii_lower("\xC3\x84"), "\xC3\x84");  // UTF-8 stays as it is
  EXPECT_EQ(ascii_lower(""), "");
}

}  // namespace
}  // namespace sconectl::strings
