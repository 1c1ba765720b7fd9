#include "sconectl/cas/api.hpp"
#include "sconectl/cas/identity.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/x509.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace sconectl::cas {
namespace {

TlsIdentity make_identity()
{
  auto identity = create_identity({.common_name = "test", .dns_names = {"localhost"}});
  EXPECT_TRUE(identity) << identity.error().message;
  return *identity;
}

TEST(KeyHash, IsFiftyCharactersOfBase58CheckWithVersionOne)
{
  const auto identity = make_identity();
  const auto hash = key_hash_of_certificate(identity.certificate_pem);
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->size(), k_key_hash_length);
  EXPECT_EQ(key_hash_problem(*hash), "");
  const auto payload = base58check_decode(*hash);
  ASSERT_TRUE(payload);
  ASSERT_EQ(payload->size(), 33u);
  EXPECT_EQ(payload->front(), 0x01);
  // The payload is the SHA-256 of the DER SubjectPublicKeyInfo (docs/cas.md).
  const auto spki = x509::certificate_spki(identity.certificate_pem);
  ASSERT_TRUE(spki);
  const auto digest = sha256(*spki);
  EXPECT_TRUE(std::equal(digest.begin(), digest.end(), payload->begin() + 1));
  EXPECT_EQ(parse_key_hash(*hash), digest);
}

TEST(KeyHash, StaysTheSameForARenewedCertificateOfTheSameKey)
{
  const auto identity = make_identity();
  const auto renewed =
      x509::issue_certificate({.common_name = "renewed"}, identity.private_key_pem, std::nullopt);
  ASSERT_TRUE(renewed);
  EXPECT_NE(*renewed, identity.certificate_pem);
  EXPECT_EQ(*key_hash_of_certificate(*renewed), *key_hash_of_certificate(identity.certificate_pem));
  EXPECT_NE(*key_hash_of_certificate(make_identity().certificate_pem),
            *key_hash_of_certificate(identity.certificate_pem));
}

TEST(KeyHash, RejectsWrongLengthChecksumAndVersion)
{
  const auto hash = *key_hash_of_certificate(make_identity().certificate_pem);
  EXPECT_NE(key_hash_problem(hash.substr(1)), "");
  auto corrupted = hash;
  corrupted[10] = corrupted[10] == 'a' ? 'b' : 'a';
  EXPECT_NE(key_hash_problem(corrupted), "");
  EXPECT_FALSE(parse_key_hash(corrupted));
  std::vector<std::uint8_t> other_version(33, 7);
  other_version[0] = 0x0a;
  EXPECT_NE(key_hash_problem(base58check_encode(other_version)), "");
  EXPECT_NE(key_hash_problem("0OIl" + hash.substr(4)), "");
}

TEST(Identity, RoundTripsThroughTheConfigForm)
{
  const auto identity = make_identity();
  const auto text = to_pem(identity);
  EXPECT_TRUE(text.starts_with("-----BEGIN PRIVATE KEY-----"));
  const auto parsed = parse_identity(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->certificate_pem, identity.certificate_pem);
}

TEST(Identity, RefusesACertificateForAnotherKey)
{
  const auto one = make_identity();
  const auto other = make_identity();
  const auto mixed = parse_identity(one.private_key_pem + other.certificate_pem);
  ASSERT_FALSE(mixed);
  EXPECT_NE(mixed.error().message.find("not for its private key"), std::string::npos);
  EXPECT_FALSE(parse_identity(one.certificate_pem));
}

TEST(Certificates, AnIssuedCertificateVerifiesAgainstItsCaOnly)
{
  const auto ca_key = *x509::PrivateKey::generate(x509::KeyType::p384);
  const auto ca =
      *x509::issue_certificate({.common_name = "ca", .is_ca = true}, ca_key, std::nullopt);
  const auto leaf_key = *x509::generate_private_key(x509::KeyType::ed25519);
  const auto leaf = x509::issue_certificate(
      {.common_name = "leaf", .dns_names = {"svc"}, .valid_for = std::chrono::hours(24)},
      leaf_key,
      x509::Signer{ca_key, ca});
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_TRUE(x509::is_signed_by(*leaf, ca));
  EXPECT_FALSE(x509::is_signed_by(*leaf, make_identity().certificate_pem));
}

TEST(Certificates, AKeyDecodedFromPemSignsAsTheOneItWasWrittenFrom)
{
  const auto generated = *x509::PrivateKey::generate(x509::KeyType::p256);
  const auto decoded = x509::PrivateKey::from_pem(generated.pem());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->pem(), generated.pem());
  const auto ca =
      *x509::issue_certificate({.common_name = "ca", .is_ca = true}, generated, std::nullopt);
  const auto leaf =
      x509::issue_certificate({.common_name = "leaf"}, generated.pem(), x509::Signer{*decoded, ca});
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_TRUE(x509::is_signed_by(*leaf, ca));
  EXPECT_FALSE(x509::PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
}

TEST(Certificates, HoldTheSubjectKeysPublicHalfExactly)
{
  for (const auto type :
       {x509::KeyType::p256, x509::KeyType::p384, x509::KeyType::ed25519, x509::KeyType::rsa2048}) {
    const auto key = *x509::PrivateKey::generate(type);
    const auto issuer_key = *x509::PrivateKey::generate(x509::KeyType::p256);
    const auto ca =
        *x509::issue_certificate({.common_name = "ca", .is_ca = true}, issuer_key, std::nullopt);
    for (const auto& certificate :
         {*x509::issue_certificate({.common_name = "self"}, key, std::nullopt),
          *x509::issue_certificate({.common_name = "leaf"}, key, x509::Signer{issuer_key, ca})}) {
      EXPECT_EQ(*x509::certificate_spki(certificate), *x509::private_key_spki(key.pem()))
          << static_cast<int>(type);
    }
    const auto self_signed = *x509::issue_certificate({.common_name = "self"}, key, std::nullopt);
    EXPECT_TRUE(x509::is_signed_by(self_signed, self_signed)) << static_cast<int>(type);
  }
}

// PrivateKey::generate writes P-256 keys itself; OpenSSL's encoder must write the same text.
TEST(PrivateKeys, AGeneratedP256KeyIsWrittenAsOpenSslWritesIt)
{
  for (int i = 0; i < 300; ++i) {
    const auto key = x509::PrivateKey::generate(x509::KeyType::p256);
    ASSERT_TRUE(key);
    BIO* out = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(out, key->get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    const std::string expected(data, static_cast<std::size_t>(size));
    BIO_free(out);
    ASSERT_EQ(key->pem(), expected) << i;
    const auto decoded = x509::PrivateKey::from_pem(key->pem());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(EVP_PKEY_eq(decoded->get(), key->get()), 1) << "the text holds the same key";
  }
}

TEST(SessionHash, IgnoresKeyOrderButNotContent)
{
  model::SessionDocument a = {{"name", "ns"}, {"version", "0.3.10"}};
  model::SessionDocument b = {{"version", "0.3.10"}, {"name", "ns"}};
  EXPECT_EQ(model::session_hash(a), model::session_hash(b));
  EXPECT_EQ(model::session_hash(a).size(), 64u);
  b["predecessor"] = std::string(64, '0');
  EXPECT_NE(model::session_hash(a), model::session_hash(b));
  a["creator"] = "someone";
  EXPECT_NE(model::session_hash(a),
            model::session_hash(model::SessionDocument{{"name", "ns"}, {"version", "0.3.10"}}));
}

TEST(CasAddress, DefaultsThePortAndAcceptsTheUsualForms)
{
  EXPECT_EQ(parse_cas_address("cas.example.com")->authority(), "cas.example.com:8081");
  EXPECT_EQ(parse_cas_address("127.0.0.1:18081")->port, 18081);
  EXPECT_EQ(parse_cas_address("https://cas:9000/")->authority(), "cas:9000");
  EXPECT_EQ(parse_cas_address("[::1]:8443")->authority(), "[::1]:8443");
  EXPECT_EQ(parse_cas_address("[::1]")->port, 8081);
  for (const char* bad :
       {"", "cas:", "cas:0", "cas:70000", "cas:80a", "::1:8081", "[::1", "ca s", "cas/x"}) {
    EXPECT_FALSE(parse_cas_address(bad)) << bad;
  }
}

TEST(ApiErrors, JoinMessagesAndCarryTheCurrentHash)
{
  const auto body =
      error_body({"predecessor does not match", "someone else updated it"}, std::string(64, 'a'));
  EXPECT_EQ(error_message(body), "predecessor does not match: someone else updated it");
  EXPECT_EQ(conflict_current_hash(body), std::string(64, 'a'));
  EXPECT_EQ(error_message("<html>\n502</html>"), "<html> 502</html>");
  EXPECT_EQ(error_message(""), "(empty answer)");
}

}  // namespace
}  // namespace sconectl::cas
