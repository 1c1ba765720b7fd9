#include "sconectl/manifest/secret_reference.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

TEST(FindSecretReferencesTest, SplitsNameFormatAndFilter)
{
  const auto scan = find_secret_references(
      "a $$SCONE::pw$$ b $$SCONE::cert:crt:der$$ $$SCONE::cfg|escape(json)$$");
  ASSERT_EQ(scan.references.size(), 3U);
  EXPECT_EQ(scan.references[0].name, "pw");
  EXPECT_EQ(scan.references[0].format, "");
  EXPECT_EQ(scan.references[1].name, "cert");
  EXPECT_EQ(scan.references[1].format, "crt:der");
  EXPECT_EQ(scan.references[2].filter, "escape(json)");
  EXPECT_EQ(scan.references[2].text, "$$SCONE::cfg|escape(json)$$");
}

TEST(FindSecretReferencesTest, ReadsLegacyDotFormats)
{
  const auto scan = find_secret_references("$$SCONE::NGINX_CA.chain$$");
  ASSERT_EQ(scan.references.size(), 1U);
  EXPECT_EQ(scan.references[0].name, "NGINX_CA");
  EXPECT_EQ(scan.references[0].format, "chain");
}

TEST(FindSecretReferencesTest, ReportsAnUnterminatedReference)
{
  const auto scan = find_secret_references("$$SCONE::password");
  EXPECT_TRUE(scan.references.empty());
  EXPECT_EQ(scan.problems,
            std::vector<std::string>{
                "unterminated secret reference '$$SCONE::password' (expected $$SCONE::name$$)"});
}

TEST(SecretFormatTest, AcceptsOnlyTheFormatsOfEachKind)
{
  EXPECT_TRUE(is_valid_format(SecretKind::ascii, ""));
  EXPECT_FALSE(is_valid_format(SecretKind::ascii, "hex"));
  EXPECT_TRUE(is_valid_format(SecretKind::binary, "base64url"));
  EXPECT_TRUE(is_valid_format(SecretKind::private_key, "pkcs8:der"));
  EXPECT_FALSE(is_valid_format(SecretKind::private_key, "crt"));
  EXPECT_TRUE(is_valid_format(SecretKind::x509, "privatekey:pkcs8:pem"));
  EXPECT_TRUE(is_valid_format(SecretKind::x509_ca, "chain"));
  EXPECT_TRUE(is_valid_format(SecretKind::public_key, "spki:der"));
  EXPECT_TRUE(is_valid_format(SecretKind::pgp_key, "publickey:asciiarmored"));
  EXPECT_FALSE(is_known_format("crt:jpeg"));
  EXPECT_EQ(describe_formats(SecretKind::ascii), "none");
  EXPECT_EQ(describe_formats(SecretKind::public_key), "spki:pem, spki:der");
}

}  // namespace
}  // namespace sconectl::manifest
