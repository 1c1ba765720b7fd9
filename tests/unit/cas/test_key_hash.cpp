// Known answers for the key hash (docs/cas.md, "Key hash"): Base58Check(0x01 || SHA-256(DER SPKI)).
// The expected strings were computed outside this code base (OpenSSL for the SPKI, Python for the
// hash and the Base58Check), so a change to the encoding, the version byte or the preimage shows.

#include "sconectl/cas/key_hash.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sconectl::cas {
namespace {

// A self-signed P-256 certificate made once for this test; only its public key matters.
constexpr const char* k_certificate = R"(-----BEGIN CERTIFICATE-----
MIIBhDCCASugAwIBAgIUZwfX4Wih+VQjF5i9B78GWwEF2cYwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMa25vd24tYW5zd2VyMCAXDTI2MTIwMjEyMDQyOVoYDzIxMjYx
MTA4MTIwNDI5WjAXMRUwEwYDVQQDDAxrbm93bi1hbnN3ZXIwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAASvGbJButnoM6OxVsKxmaq3tij1QG9GtPB0iCwrkJOKsYCN
XDntjo0SYpkDMfF/RLv0sJvohY9Td4swqMZHjQB7o1MwUTAdBgNVHQ4EFgQUyc/5
JI4bEpZigdHUUI+UB6SryA4wHwYDVR0jBBgwFoAUyc/5JI4bEpZigdHUUI+UB6Sr
yA4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBG9LDjPsSkgE7H
Qjjtr34MgXPZo7M8aSpMMkihCabOPAIgPadHUq7oJvo0DUOcu1upiiUhXCasT7zD
YyaoOcvxXmw=
-----END CERTIFICATE-----
)";

TEST(KeyHashTest, CertificateMatchesTheKnownAnswer)
{
  const auto hash = key_hash_of_certificate(k_certificate);
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_EQ(*hash, "3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh");
  EXPECT_EQ(hash->size(), k_key_hash_length);
  EXPECT_EQ(key_hash_problem(*hash), "");
}

TEST(KeyHashTest, BytesMatchTheKnownAnswer)
{
  const std::string preimage = "sconectl known answer";
  const auto hash = key_hash_of_spki(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(preimage.data()), preimage.size()));
  EXPECT_EQ(hash, "34ywF8Frdi5tpVUkzPrS8woVxxAa7wr4StfFCrHi9jsRLZKnJd");
  const auto digest = parse_key_hash(hash);
  ASSERT_TRUE(digest);
  EXPECT_EQ(to_hex(*digest), to_hex(sha256(preimage)));
}

TEST(KeyHashTest, OneChangedCharacterFailsTheChecksum)
{
  std::string hash = "34ywF8Frdi5tpVUkzPrS8woVxxAa7wr4StfFCrHi9jsRLZKnJd";
  hash[10] = hash[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(parse_key_hash(hash));
  EXPECT_NE(key_hash_problem(hash), "");
}

}  // namespace
}  // namespace sconectl::cas
