#include "cas_fixture.hpp"
#include "certificate_spec.hpp"
#include "sconectl/util/digest.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <span>

namespace sconectl::cas::testing {
namespace {

using SecretGenerationTest = CasTest;

const std::string k_secrets = R"(secrets:
  - name: "password"
    kind: "ascii"
    size: 33
  - name: "salt"
    kind: "binary"
    size: 7
  - name: "short"
    kind: "ascii"
  - name: "server_key"
    kind: "private-key"
    migrate: true
  - name: "plain_key"
    kind: "private-key"
  - name: "ca_key"
    kind: "private-key"
    key_type: "P-384"
  - name: "ca"
    kind: "x509-ca"
    private_key: "ca_key"
    common_name: "demo CA"
  - name: "server"
    kind: "x509"
    private_key: "server_key"
    issuer: "ca"
    san: ["dns:demo", "ip:10.0.0.7"]
    valid_for: "90 days"
)";

TEST_F(SecretGenerationTest, GeneratesValuesOfTheRequestedShape)
{
  create(m_alice, session_yaml("demo", k_secrets));
  const auto values = stored_secrets("demo");
  ASSERT_EQ(values.size(), 8U);  // every secret above
  const auto& password = values.at("password").value;
  EXPECT_EQ(password.size(), 33U);
  EXPECT_TRUE(std::all_of(password.begin(), password.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != '$' && c != '\\';
  }));
  EXPECT_EQ(values.at("short").value.size(), 20U);
  EXPECT_EQ(values.at("salt").value.size(), 7U);
  EXPECT_EQ(values.at("salt").kind, "binary");
  EXPECT_TRUE(x509::is_signed_by(values.at("server").value, values.at("ca").value));
  EXPECT_TRUE(x509::is_signed_by(values.at("ca").value, values.at("ca").value));
  EXPECT_EQ(x509::certificate_spki(values.at("server").value).value(),
            x509::private_key_spki(values.at("server_key").value).value());
  EXPECT_EQ(values.at("ca").private_key, values.at("ca_key").value);
}

// The extended key usage flags (XKU_SSL_SERVER, XKU_SSL_CLIENT) of a PEM certificate.
std::uint32_t extended_key_usage(const std::string& pem)
{
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (certificate == nullptr) {
    return 0;
  }
  const auto flags = X509_get_extended_key_usage(certificate);
  X509_free(certificate);
  return flags & (XKU_SSL_SERVER | XKU_SSL_CLIENT);
}

TEST_F(SecretGenerationTest, EndpointLimitsTheCertificateToTlsServerOrClient)
{
  create(m_alice, session_yaml("demo", R"(secrets:
  - name: "server"
    kind: "x509"
    endpoint: "server"
  - name: "client"
    kind: "x509"
    endpoint: "client"
  - name: "both"
    kind: "x509"
)"));
  const auto values = stored_secrets("demo");
  EXPECT_EQ(extended_key_usage(values.at("server").value), XKU_SSL_SERVER);
  EXPECT_EQ(extended_key_usage(values.at("client").value), XKU_SSL_CLIENT);
  EXPECT_EQ(extended_key_usage(values.at("both").value), XKU_SSL_SERVER | XKU_SSL_CLIENT);
  const auto refused =
      upload(m_alice,
             session_yaml("other", "secrets:\n  - name: c\n    kind: x509\n    endpoint: peer\n"));
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(messages_of(refused).find("endpoint must be server or client"), std::string::npos)
      << refused.body;
}

TEST_F(SecretGenerationTest, CertificateIsIssuedByACaImportedFromAnotherSession)
{
  create(m_alice, session_yaml("shop"));
  create(m_alice, session_yaml("shop/db", R"(secrets:
  - name: "ca"
    kind: "x509-ca"
    export:
      - namespace: "shop"
)"));
  create(m_alice, session_yaml("shop/web", R"(secrets:
  - name: "ca"
    import:
      session: "../db"
      secret: "ca"
  - name: "client"
    kind: "x509"
    issuer: "ca"
)"));
  const auto ca = stored_secrets("shop/db").at("ca");
  const auto client = stored_secrets("shop/web").at("client");
  EXPECT_TRUE(x509::is_signed_by(client.value, ca.value));
  EXPECT_FALSE(x509::is_signed_by(client.value, client.value));
}

TEST_F(SecretGenerationTest, UpdateKeepsTextAndMigratingKeysAndIssuesNewCertificates)
{
  const auto hash = create(m_alice, session_yaml("demo", k_secrets));
  const auto before = stored_secrets("demo");
  // server_key migrates only when both versions say so; this one does, plain_key does not.
  ASSERT_EQ(upload(m_alice, with_predecessor(session_yaml("demo", k_secrets), hash)).status, 200);
  const auto after = stored_secrets("demo");
  EXPECT_EQ(after.at("password").value, before.at("password").value);
  EXPECT_EQ(after.at("salt").value, before.at("salt").value);
  EXPECT_EQ(after.at("server_key").value, before.at("server_key").value);
  EXPECT_NE(after.at("plain_key").value, before.at("plain_key").value);
  EXPECT_NE(after.at("server").value, before.at("server").value);
  EXPECT_NE(after.at("ca").value, before.at("ca").value);
  EXPECT_TRUE(x509::is_signed_by(after.at("server").value, after.at("ca").value));
}

TEST_F(SecretGenerationTest, PrivateKeyIsKeptOnlyWhenBothVersionsMigrate)
{
  const auto key = [](const std::string& flag) {
    return session_yaml("demo", "secrets:\n  - name: \"key\"\n    kind: \"private-key\"\n" + flag);
  };
  const std::string migrate = "    migrate: true\n";
  // Each step: the flag of the new version, and whether the key must survive the update.
  const std::vector<std::pair<std::string, bool>> steps = {
      {migrate, false},  // the first version did not migrate
      {migrate, true},   // both do
      {"", false},       // the new one does not
  };
  auto hash = create(m_alice, key(""));
  for (const auto& [flag, kept] : steps) {
    const auto before = stored_secrets("demo").at("key").value;
    const auto updated = upload(m_alice, with_predecessor(key(flag), hash));
    ASSERT_EQ(updated.status, 200) << updated.body;
    hash = json_of(updated).at("hash").get<std::string>();
    EXPECT_EQ(stored_secrets("demo").at("key").value == before, kept) << flag << kept;
  }
}

TEST_F(SecretGenerationTest, SecretsNoLongerDefinedAreDropped)
{
  const auto hash = create(m_alice, session_yaml("demo", k_secrets));
  ASSERT_EQ(upload(m_alice, with_predecessor(session_yaml("demo"), hash)).status, 200);
  EXPECT_TRUE(stored_secrets("demo").empty());
}

TEST_F(SecretGenerationTest, GeneratedValuesNeverAppearInSessionBodies)
{
  const auto hash = create(m_alice, session_yaml("demo", k_secrets));
  const auto values = stored_secrets("demo");
  const auto current = read(m_alice, "demo").body;
  const auto old = read(m_alice, "demo", "hash=" + hash).body;
  // A distinctive piece of each value: PEM headers are not secret, their middle is.
  const auto piece = [](const std::string& value) {
    return value.size() > 64 ? value.substr(value.size() / 2, 32) : value;
  };
  ASSERT_FALSE(values.empty());
  for (const auto& [name, secret] : values) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(secret.value.data());
    const auto hex = to_hex(std::span<const std::uint8_t>(bytes, secret.value.size()));
    for (const auto& body : {current, old}) {
      EXPECT_EQ(body.find(piece(secret.value)), std::string::npos) << name;
      EXPECT_EQ(body.find(hex), std::string::npos) << name;
      if (!secret.private_key.empty()) {
        EXPECT_EQ(body.find(piece(secret.private_key)), std::string::npos) << name;
      }
    }
  }
}

TEST_F(SecretGenerationTest, PublicValuesAreReadableByAnyoneOthersAreRefused)
{
  create(m_alice, session_yaml("demo", R"(secrets:
  - name: "token"
    kind: "ascii"
    export_public: true
  - name: "bytes"
    kind: "binary"
    size: 4
    export_public: true
  - name: "key"
    kind: "private-key"
    export_public: true
  - name: "greeting"
    kind: "ascii"
    value: "hello"
    export_public: true
  - name: "hidden"
    kind: "ascii"
)"));
  const auto values = stored_secrets("demo");
  const auto token = get(std::nullopt, "/v1/values/session=demo,secret=token");
  ASSERT_EQ(token.status, 200) << token.body;
  EXPECT_EQ(json_of(token),
            (nlohmann::json{{"kind", "string"},
                            {"value", values.at("token").value},
                            {"expires", nullptr},
                            {"renew", nullptr}}));
  const auto hidden = get(std::nullopt, "/v1/values/session=demo,secret=hidden");
  EXPECT_EQ(hidden.status, 403);
  EXPECT_EQ(json_of(hidden).at("msg").at(0),
            "Failed to read value 'hidden' of session 'demo' requested by a public client");
  EXPECT_EQ(hidden.body.find(values.at("hidden").value), std::string::npos);

  const auto all = get(std::nullopt, "/v1/values/session=demo");
  ASSERT_EQ(all.status, 200) << all.body;
  const auto listed = json_of(all).at("values");
  EXPECT_EQ(listed.size(), 4U);
  EXPECT_FALSE(listed.contains("hidden"));
  EXPECT_EQ(listed.at("greeting").at("value"), "hello");
  EXPECT_EQ(listed.at("bytes").at("value").get<std::string>().size(), 8U);
  EXPECT_EQ(listed.at("key").at("value"), *x509::public_key_of(values.at("key").value));
  EXPECT_EQ(all.body.find("PRIVATE KEY"), std::string::npos);
  // A caller without a certificate cannot tell a missing session or secret from a hidden one.
  const auto renamed = [](std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
    return text;
  };
  const auto no_session = get(std::nullopt, "/v1/values/session=missing,secret=hidden");
  EXPECT_EQ(no_session.status, hidden.status);
  EXPECT_EQ(renamed(no_session.body, "missing", "demo"), hidden.body);
  const auto no_secret = get(std::nullopt, "/v1/values/session=demo,secret=nothing");
  EXPECT_EQ(no_secret.status, hidden.status);
  EXPECT_EQ(renamed(no_secret.body, "nothing", "hidden"), hidden.body);
  const auto no_list = get(std::nullopt, "/v1/values/session=missing");
  EXPECT_EQ(no_list.status, 200);
  EXPECT_EQ(json_of(no_list), (nlohmann::json{{"values", nlohmann::json::object()}}));
  EXPECT_EQ(get(std::nullopt, "/v1/values/demo").status, 400);
}

TEST_F(SecretGenerationTest, UnsupportedKindsAndBadParametersAreRefused)
{
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"pgp-key", "  - name: \"k\"\n    kind: \"pgp-key\"\n"},
      {"jwt", "  - name: \"k\"\n    kind: \"jwt\"\n"},
      {"valid_for", "  - name: \"c\"\n    kind: \"x509\"\n    valid_for: \"soon\"\n"},
      {"san", "  - name: \"c\"\n    kind: \"x509\"\n    san: [\"email:x@y\"]\n"},
      {"key_type", "  - name: \"k\"\n    kind: \"private-key\"\n    key_type: \"P-999\"\n"},
  };
  for (const auto& [what, secret] : cases) {
    const auto response = upload(m_alice, session_yaml("demo", "secrets:\n" + secret));
    EXPECT_EQ(response.status, 400) << what << ": " << response.body;
  }
  const auto jwt = upload(m_alice, session_yaml("demo", "secrets:\n" + cases[1].second));
  EXPECT_NE(messages_of(jwt).find("secrets[0].kind: not supported by this CAS: kind jwt"),
            std::string::npos)
      << messages_of(jwt);
}

TEST(ParseValidityTest, ReadsCountsWithUnits)
{
  using std::chrono::seconds;
  EXPECT_EQ(server::parse_validity("90 days"), seconds(90 * 86400));
  EXPECT_EQ(server::parse_validity("1 year"), seconds(365 * 86400));
  EXPECT_EQ(server::parse_validity("12h"), seconds(12 * 3600));
  EXPECT_EQ(server::parse_validity("2 weeks"), seconds(14 * 86400));
  EXPECT_EQ(server::parse_validity("3 months"), seconds(90 * 86400));
  EXPECT_EQ(server::parse_validity("30m"), seconds(1800));
  for (const auto* bad : {"", "days", "0 days", "-1 days", "5", "5 fortnights", "9999999 years"}) {
    EXPECT_FALSE(server::parse_validity(bad)) << bad;
  }
}

}  // namespace
}  // namespace sconectl::cas::testing
