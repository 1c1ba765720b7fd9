#include "sconectl/util/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sconectl::base64 {
namespace {

// RFC 4648, section 10.
TEST(Base64, EncodesTheStandardsVectors)
{
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foob"), "Zm9vYg==");
  EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, TheUrlAlphabetReplacesPlusAndSlashAndKeepsPadding)
{
  const std::string bytes = "\xfb\xff\xbf?";
  EXPECT_EQ(encode(bytes), "+/+/Pw==");
  EXPECT_EQ(encode(bytes, Alphabet::url), "-_-_Pw==");
}

TEST(Base64, DecodesWhatItEncodesWithBinaryBytes)
{
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  for (std::size_t length = 0; length <= 7; ++length) {
    EXPECT_EQ(decode(encode(bytes.substr(0, length))), bytes.substr(0, length)) << length;
  }
  EXPECT_EQ(decode(encode(bytes)), bytes);
  EXPECT_EQ(decode("dXNlcjpwYXNz"), "user:pass");
}

TEST(Base64, RefusesWhatIsNotPaddedStandardBase64)
{
  EXPECT_EQ(decode("Zg"), std::nullopt);        // not padded
  EXPECT_EQ(decode("Zm9v!A=="), std::nullopt);  // outside the alphabet
  EXPECT_EQ(decode("-_-_Pw=="), std::nullopt);  // the url alphabet
  EXPECT_EQ(decode("Zm9vYmFy\n"), std::nullopt);
}

}  // namespace
}  // namespace sconectl::base64
