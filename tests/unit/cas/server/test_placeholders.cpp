#include "placeholders.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sconectl::cas::server {
namespace {

// Expected values from Python's base64 module. One binary secret, as a session writes it (hex, with
// a block scalar's line break) or as the CAS generated it (raw bytes).
SecretSource binary(std::string value, bool written_in_session)
{
  return [value = std::move(value),
          written_in_session](const std::string& name) -> Result<std::optional<SecretValue>> {
    if (name != "key") {
      return std::optional<SecretValue>();
    }
    return std::optional<SecretValue>(SecretValue{.stored = {.kind = "binary", .value = value},
                                                  .written_in_session = written_in_session});
  };
}

TEST(Placeholders, ABinarySecretInEveryFormatTheLocalCasGives)
{
  const std::string bytes("\xfb\xff\xbf\x00", 4);
  for (const auto& source : {binary(" fbffbf00\n", true), binary(bytes, false)}) {
    const auto resolved = resolve_placeholders(
        "hex=$$SCONE::key:hex$$ b64=$$SCONE::key:base64$$ url=$$SCONE::key:base64url$$ "
        "b32=$$SCONE::key:base32$$ nopad=$$SCONE::key:base32nopad$$",
        source);
    ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
    EXPECT_EQ(*resolved, "hex=fbffbf00 b64=+/+/AA== url=-_-_AA== b32=7P736AA= nopad=7P736AA");
    const auto raw = resolve_placeholders("$$SCONE::key$$", source);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, bytes);
  }
}

TEST(Placeholders, WrittenHexThatIsNotHexIsNamed)
{
  const auto resolved = resolve_placeholders("$$SCONE::key:base64$$", binary("zz", true));
  ASSERT_FALSE(resolved.has_value());
  EXPECT_EQ(resolved.error().message, "$$SCONE::key:base64$$: its value is not hex");
}

TEST(Placeholders, AnUnknownSecretIsNamed)
{
  const auto resolved = resolve_placeholders("x $$SCONE::other$$", binary("00", true));
  ASSERT_FALSE(resolved.has_value());
  EXPECT_NE(resolved.error().message.find("no value for secret 'other'"), std::string::npos);
}

}  // namespace
}  // namespace sconectl::cas::server
