#pragma once

#include "sconectl/util/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Keys and certificates in PEM, built with OpenSSL. Used for the CAS client identity, the local
// CAS's own identity, and the secrets that the local CAS generates.
struct evp_pkey_st;     // OpenSSL's EVP_PKEY
struct X509_pubkey_st;  // OpenSSL's X509_PUBKEY
struct x509_st;         // OpenSSL's X509

namespace sconectl::x509 {

enum class KeyType { p256, p384, ed25519, rsa2048, rsa3072 };

// The session language's spelling ("P-256", "P-384", "Ed25519", "RSA-2048", "RSA-3072").
[[nodiscard]] std::optional<KeyType> key_type_from(std::string_view name);

// A private key with its PEM PKCS#8 text, decoded once. OpenSSL 3 spends far longer decoding a
// PEM key than signing with it, so code that uses one key for several certificates keeps this.
class PrivateKey {
 public:
  [[nodiscard]] static Result<PrivateKey> generate(KeyType type);
  [[nodiscard]] static Result<PrivateKey> from_pem(std::string_view pem);

  [[nodiscard]] const std::string& pem() const { return m_pem; }
  [[nodiscard]] evp_pkey_st* get() const { return m_key.get(); }
  // The public half as a certificate holds it, made once: setting it from the key re-encodes
  // and decodes the key each time.
  [[nodiscard]] const X509_pubkey_st* public_key_info() const { return m_public.get(); }

 private:
  PrivateKey(std::shared_ptr<evp_pkey_st> key,
             std::shared_ptr<X509_pubkey_st> public_key,
             std::string pem)
      : m_key(std::move(key)), m_public(std::move(public_key)), m_pem(std::move(pem))
  {
  }
  static Result<PrivateKey> from_key(evp_pkey_st* key, std::string pem);

  std::shared_ptr<evp_pkey_st> m_key;
  std::shared_ptr<X509_pubkey_st> m_public;
  std::string m_pem;
};

// A fresh private key, PEM PKCS#8.
[[nodiscard]] Result<std::string> generate_private_key(KeyType type);

// The public key of a PEM private key, PEM SubjectPublicKeyInfo.
[[nodiscard]] Result<std::string> public_key_of(std::string_view private_key_pem);

struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  // Extended key usage of a leaf certificate: TLS server, TLS client, or both (no `endpoint`).
  bool server_auth = true;
  bool client_auth = true;
  // Validity from one hour ago (clock skew); std::nullopt: until 4096-01-01, as CAS certificates.
  std::optional<std::chrono::seconds> valid_for;
};

struct Signer {
  PrivateKey private_key;
  std::string certificate_pem;
  // certificate_pem decoded, when the caller has it (an IssuedCertificate, decode_certificate);
  // else it is decoded for each certificate signed, which costs about as much as signing.
  std::shared_ptr<x509_st> certificate = {};
};

struct IssuedCertificate {
  std::string pem;
  std::shared_ptr<x509_st> certificate;  // pem, decoded
};

// A PEM certificate decoded, for a Signer.
[[nodiscard]] Result<std::shared_ptr<x509_st>> decode_certificate(std::string_view pem);

// A certificate for the key `subject_private_key_pem`, signed by `issuer` or, without one,
// self-signed. PEM.
[[nodiscard]] Result<std::string> issue_certificate(const CertificateSpec& spec,
                                                    const PrivateKey& subject_key,
                                                    const std::optional<Signer>& issuer);
// The same, keeping the certificate decoded for signing others with it.
[[nodiscard]] Result<IssuedCertificate> issue_decoded_certificate(
    const CertificateSpec& spec,
    const PrivateKey& subject_key,
    const std::optional<Signer>& issuer);
[[nodiscard]] Result<std::string> issue_certificate(const CertificateSpec& spec,
                                                    std::string_view subject_private_key_pem,
                                                    const std::optional<Signer>& issuer);

// The DER SubjectPublicKeyInfo of the first certificate in a PEM text.
[[nodiscard]] Result<std::vector<std::uint8_t>> certificate_spki(std::string_view certificate_pem);

// The DER SubjectPublicKeyInfo of a PEM private key's public half.
[[nodiscard]] Result<std::vector<std::uint8_t>> private_key_spki(std::string_view private_key_pem);

// Every certificate in a PEM text, each re-encoded as PEM, in order.
[[nodiscard]] Result<std::vector<std::string>> split_certificates(std::string_view pem);

// True when `certificate_pem` was signed by the key in `issuer_certificate_pem`.
[[nodiscard]] bool is_signed_by(std::string_view certificate_pem,
                                std::string_view issuer_certificate_pem);

}  // namespace sconectl::x509
