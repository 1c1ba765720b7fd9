#include "sconectl/util/x509.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>

namespace sconectl::x509 {

namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* pointer) const
  {
    Free(pointer);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Number = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// The most recent OpenSSL error, for messages; clears the queue.
std::string openssl_error()
{
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

tl::unexpected<Error> crypto_failure(const std::string& what)
{
  return fail(ErrorKind::internal, what + ": " + openssl_error());
}

Bio memory_reader(std::string_view text)
{
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string drain(BIO* bio)
{
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<Key> read_private_key(std::string_view pem)
{
  auto bio = memory_reader(pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return fail(ErrorKind::manifest, "not a PEM private key");
  }
  return key;
}

Result<Certificate> read_certificate(std::string_view pem)
{
  auto bio = memory_reader(pem);
  Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) {
    ERR_clear_error();
    return fail(ErrorKind::manifest, "not a PEM certificate");
  }
  return certificate;
}

std::string certificate_pem(X509* certificate)
{
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), certificate);
  return drain(out.get());
}

Result<std::vector<std::uint8_t>> spki_der(EVP_PKEY* key)
{
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) {
    return crypto_failure("encoding a public key");
  }
  std::vector<std::uint8_t> result(der, der + length);
  OPENSSL_free(der);
  return result;
}

bool add_extension(X509* certificate, X509* issuer, int nid, const std::string& value)
{
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// Ed25519 signs the message itself; every other key type signs a SHA-256 digest.
const EVP_MD* digest_for(EVP_PKEY* key)
{
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

bool set_serial(X509* certificate)
{
  std::uint8_t random[16];
  if (RAND_bytes(random, sizeof random) != 1) {
    return false;
  }
  random[0] &= 0x7f;  // a positive INTEGER
  Number number(BN_bin2bn(random, sizeof random, nullptr));
  return number && BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate)) != nullptr;
}

bool set_validity(X509* certificate, const std::optional<std::chrono::seconds>& valid_for)
{
  std::time_t now = std::time(nullptr);
  if (X509_time_adj_ex(X509_getm_notBefore(certificate), 0, -3600, &now) == nullptr) {
    return false;
  }
  if (valid_for) {
    const auto seconds = valid_for->count();
    return X509_time_adj_ex(X509_getm_notAfter(certificate),
                            static_cast<int>(seconds / 86400),
                            static_cast<long>(seconds % 86400),
                            &now)
           != nullptr;
  }
  return ASN1_TIME_set_string_X509(X509_getm_notAfter(certificate), "40960101000000Z") == 1;
}

// Copies the key's SubjectPublicKeyInfo into the certificate field by field, which
// X509_set_pubkey would re-encode and decode from the key. The algorithm parameters of the key
// types made here are an OID (EC), NULL (RSA) or absent (Ed25519); others take the slow way.
bool set_public_key(X509* certificate, const PrivateKey& key)
{
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int length = 0;
  X509_ALGOR* identifier = nullptr;
  // OpenSSL 3.0 takes the X509_PUBKEY non-const here although it only reads it.
  auto* cached = const_cast<X509_PUBKEY*>(key.public_key_info());
  if (cached == nullptr
      || X509_PUBKEY_get0_param(&algorithm, &bits, &length, &identifier, cached) != 1) {
    return X509_set_pubkey(certificate, key.get()) == 1;
  }
  const ASN1_OBJECT* oid = nullptr;
  int parameter_type = 0;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&oid, &parameter_type, &parameter, identifier);
  if (parameter_type != V_ASN1_OBJECT && parameter_type != V_ASN1_NULL
      && parameter_type != V_ASN1_UNDEF) {
    return X509_set_pubkey(certificate, key.get()) == 1;
  }
  ASN1_OBJECT* oid_copy = OBJ_dup(oid);
  ASN1_OBJECT* parameter_copy = parameter_type == V_ASN1_OBJECT
                                    ? OBJ_dup(static_cast<const ASN1_OBJECT*>(parameter))
                                    : nullptr;
  auto* bits_copy =
      static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(length)));
  if (oid_copy == nullptr || bits_copy == nullptr
      || (parameter_type == V_ASN1_OBJECT && parameter_copy == nullptr)
      || X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(certificate),
                                oid_copy,
                                parameter_type,
                                parameter_copy,
                                bits_copy,
                                length)
             != 1) {
    ASN1_OBJECT_free(oid_copy);
    ASN1_OBJECT_free(parameter_copy);
    OPENSSL_free(bits_copy);
    return false;
  }
  return true;
}

std::string subject_alt_names(const CertificateSpec& spec)
{
  std::string names;
  for (const auto& dns : spec.dns_names) {
    names += (names.empty() ? "" : ",") + std::string("DNS:") + dns;
  }
  for (const auto& ip : spec.ip_addresses) {
    names += (names.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  return names;
}

// The public half of an EC or Ed25519 key as a certificate holds it, built from the key's own
// parameters: X509_PUBKEY_set encodes the key and decodes it again (OpenSSL 3.0), which costs
// more than generating it. Null for other key types, and when a parameter cannot be read.
X509_PUBKEY* public_key_info_from_parameters(EVP_PKEY* key)
{
  int algorithm = NID_undef;
  ASN1_OBJECT* parameter = nullptr;
  std::vector<unsigned char> bits;
  std::size_t length = 0;
  if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) {
    algorithm = NID_ED25519;
    if (EVP_PKEY_get_raw_public_key(key, nullptr, &length) != 1) {
      return nullptr;
    }
    bits.resize(length);
    if (EVP_PKEY_get_raw_public_key(key, bits.data(), &length) != 1) {
      return nullptr;
    }
  } else if (EVP_PKEY_get_id(key) == EVP_PKEY_EC) {
    algorithm = NID_X9_62_id_ecPublicKey;
    char group[64];
    if (EVP_PKEY_get_utf8_string_param(
            key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr)
            != 1
        || EVP_PKEY_get_octet_string_param(
               key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0, &length)
               != 1) {
      return nullptr;
    }
    const int curve = OBJ_txt2nid(group);
    bits.resize(length);
    if (curve == NID_undef
        || EVP_PKEY_get_octet_string_param(
               key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, bits.data(), bits.size(), &length)
               != 1) {
      return nullptr;
    }
    parameter = OBJ_nid2obj(curve);
  } else {
    return nullptr;
  }
  bits.resize(length);
  X509_PUBKEY* info = X509_PUBKEY_new();
  auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(bits.data(), bits.size()));
  if (info == nullptr || copy == nullptr
      || X509_PUBKEY_set0_param(info,
                                OBJ_nid2obj(algorithm),
                                parameter != nullptr ? V_ASN1_OBJECT : V_ASN1_UNDEF,
                                parameter,
                                copy,
                                static_cast<int>(bits.size()))
             != 1) {
    X509_PUBKEY_free(info);
    OPENSSL_free(copy);
    return nullptr;
  }
  return info;
}

// The PEM PKCS#8 text of a P-256 key, byte for byte as PEM_write_bio_PrivateKey writes it, put
// together from the key's two numbers: OpenSSL 3.0 sets up an encoder for each key it writes,
// which costs more than generating the key. The DER has a fixed layout for this curve:
// PrivateKeyInfo { 0, { id-ecPublicKey, prime256v1 }, OCTET STRING { ECPrivateKey { 1,
// OCTET STRING d (32 bytes), [1] BIT STRING Q (65 bytes, uncompressed) } } }.
std::optional<std::string> p256_private_key_pem(EVP_PKEY* key)
{
  static constexpr unsigned char k_head[] = {0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06,
                                             0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                                             0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                                             0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20};
  static constexpr unsigned char k_public_head[] = {0xa1, 0x44, 0x03, 0x42, 0x00};
  constexpr std::size_t k_scalar = 32;
  constexpr std::size_t k_point = 65;
  std::array<unsigned char, sizeof k_head + k_scalar + sizeof k_public_head + k_point> der{};
  BIGNUM* secret = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &secret) != 1) {
    return std::nullopt;
  }
  const std::unique_ptr<BIGNUM, Deleter<BN_clear_free>> owned(secret);
  auto* at = std::copy(std::begin(k_head), std::end(k_head), der.begin());
  if (BN_bn2binpad(secret, at, static_cast<int>(k_scalar)) != static_cast<int>(k_scalar)) {
    return std::nullopt;
  }
  at = std::copy(std::begin(k_public_head), std::end(k_public_head), at + k_scalar);
  std::size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, at, k_point, &length)
          != 1
      || length != k_point || at[0] != 0x04) {
    return std::nullopt;
  }
  std::array<unsigned char, (sizeof der + 2) / 3 * 4 + 1> base64{};
  const int written = EVP_EncodeBlock(base64.data(), der.data(), static_cast<int>(der.size()));
  OPENSSL_cleanse(der.data(), der.size());
  std::string pem = "-----BEGIN PRIVATE KEY-----\n";
  for (int line = 0; line < written; line += 64) {
    pem.append(reinterpret_cast<const char*>(base64.data()) + line,
               static_cast<std::size_t>(std::min(64, written - line)));
    pem += '\n';
  }
  pem += "-----END PRIVATE KEY-----\n";
  OPENSSL_cleanse(base64.data(), base64.size());
  return pem;
}

}  // namespace

std::optional<KeyType> key_type_from(std::string_view name)
{
  if (name == "P-256") return KeyType::p256;
  if (name == "P-384") return KeyType::p384;
  if (name == "Ed25519") return KeyType::ed25519;
  if (name == "RSA-2048") return KeyType::rsa2048;
  if (name == "RSA-3072") return KeyType::rsa3072;
  return std::nullopt;
}

Result<PrivateKey> PrivateKey::generate(KeyType type)
{
  Key key;
  switch (type) {
    case KeyType::p256:
      key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyType::p384:
      key.reset(EVP_EC_gen("P-384"));
      break;
    case KeyType::ed25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
    case KeyType::rsa2048:
      key.reset(EVP_RSA_gen(2048));
      break;
    case KeyType::rsa3072:
      key.reset(EVP_RSA_gen(3072));
      break;
  }
  if (!key) {
    return crypto_failure("generating a private key");
  }
  if (type == KeyType::p256) {
    if (auto pem = p256_private_key_pem(key.get())) {
      return from_key(key.release(), std::move(*pem));
    }
  }
  Bio out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return crypto_failure("encoding a private key");
  }
  return from_key(key.release(), drain(out.get()));
}

Result<PrivateKey> PrivateKey::from_key(EVP_PKEY* key, std::string pem)
{
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  X509_PUBKEY* public_key = public_key_info_from_parameters(key);
  if (public_key == nullptr && X509_PUBKEY_set(&public_key, key) != 1) {
    return crypto_failure("encoding a public key");
  }
  return PrivateKey(
      std::move(owned), std::shared_ptr<X509_PUBKEY>(public_key, X509_PUBKEY_free), std::move(pem));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem)
{
  auto key = read_private_key(pem);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  return from_key(key->release(), std::string(pem));
}

Result<std::string> generate_private_key(KeyType type)
{
  auto key = PrivateKey::generate(type);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  return key->pem();
}

Result<std::string> public_key_of(std::string_view private_key_pem)
{
  auto key = read_private_key(private_key_pem);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  Bio out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(out.get(), key->get()) != 1) {
    return crypto_failure("encoding a public key");
  }
  return drain(out.get());
}

Result<std::string> issue_certificate(const CertificateSpec& spec,
                                      std::string_view subject_private_key_pem,
                                      const std::optional<Signer>& issuer)
{
  auto subject_key = PrivateKey::from_pem(subject_private_key_pem);
  if (!subject_key) {
    return forward_error(std::move(subject_key.error()));
  }
  return issue_certificate(spec, *subject_key, issuer);
}

Result<std::shared_ptr<X509>> decode_certificate(std::string_view pem)
{
  auto certificate = read_certificate(pem);
  if (!certificate) {
    return forward_error(std::move(certificate.error()));
  }
  return std::shared_ptr<X509>(certificate->release(), X509_free);
}

Result<std::string> issue_certificate(const CertificateSpec& spec,
                                      const PrivateKey& subject_key,
                                      const std::optional<Signer>& issuer)
{
  auto issued = issue_decoded_certificate(spec, subject_key, issuer);
  if (!issued) {
    return forward_error(std::move(issued.error()));
  }
  return std::move(issued->pem);
}

Result<IssuedCertificate> issue_decoded_certificate(const CertificateSpec& spec,
                                                    const PrivateKey& subject_key,
                                                    const std::optional<Signer>& issuer)
{
  std::shared_ptr<X509> issuer_certificate;
  if (issuer) {
    issuer_certificate = issuer->certificate;
    if (!issuer_certificate) {
      auto decoded = decode_certificate(issuer->certificate_pem);
      if (!decoded) {
        return fail(ErrorKind::manifest, "the issuer needs a PEM certificate");
      }
      issuer_certificate = std::move(*decoded);
    }
  }

  std::shared_ptr<X509> certificate(X509_new(), X509_free);
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  const auto* common_name = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  bool ok =
      certificate && X509_set_version(certificate.get(), 2) == 1 && set_serial(certificate.get())
      && set_validity(certificate.get(), spec.valid_for)
      && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, common_name, -1, -1, 0) == 1
      && X509_set_issuer_name(certificate.get(),
                              issuer ? X509_get_subject_name(issuer_certificate.get()) : subject)
             == 1
      && set_public_key(certificate.get(), subject_key);
  X509* authority = issuer ? issuer_certificate.get() : certificate.get();
  ok = ok
       && add_extension(certificate.get(),
                        authority,
                        NID_basic_constraints,
                        spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE")
       && add_extension(certificate.get(),
                        authority,
                        NID_key_usage,
                        spec.is_ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                                   : "critical,digitalSignature,keyEncipherment")
       && add_extension(certificate.get(), authority, NID_subject_key_identifier, "hash")
       && add_extension(certificate.get(), authority, NID_authority_key_identifier, "keyid:always");
  if (ok && !spec.is_ca) {
    const std::string usage = spec.server_auth && spec.client_auth ? "serverAuth,clientAuth"
                              : spec.server_auth                   ? "serverAuth"
                                                                   : "clientAuth";
    ok = add_extension(certificate.get(), authority, NID_ext_key_usage, usage);
  }
  if (const auto names = subject_alt_names(spec); ok && !names.empty()) {
    ok = add_extension(certificate.get(), authority, NID_subject_alt_name, names);
  }
  EVP_PKEY* signer = issuer ? issuer->private_key.get() : subject_key.get();
  if (!ok || X509_sign(certificate.get(), signer, digest_for(signer)) <= 0) {
    return crypto_failure("issuing a certificate for '" + spec.common_name + "'");
  }
  return IssuedCertificate{.pem = certificate_pem(certificate.get()),
                           .certificate = std::move(certificate)};
}

Result<std::vector<std::uint8_t>> certificate_spki(std::string_view certificate_pem)
{
  auto certificate = read_certificate(certificate_pem);
  if (!certificate) {
    return forward_error(std::move(certificate.error()));
  }
  EVP_PKEY* key = X509_get0_pubkey(certificate->get());
  if (key == nullptr) {
    return crypto_failure("reading a certificate's public key");
  }
  return spki_der(key);
}

Result<std::vector<std::uint8_t>> private_key_spki(std::string_view private_key_pem)
{
  auto key = read_private_key(private_key_pem);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  return spki_der(key->get());
}

Result<std::vector<std::string>> split_certificates(std::string_view pem)
{
  auto bio = memory_reader(pem);
  std::vector<std::string> certificates;
  while (true) {
    Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) {
      break;
    }
    certificates.push_back(certificate_pem(certificate.get()));
  }
  ERR_clear_error();
  if (certificates.empty()) {
    return fail(ErrorKind::manifest, "no PEM certificate found");
  }
  return certificates;
}

bool is_signed_by(std::string_view certificate_pem, std::string_view issuer_certificate_pem)
{
  auto certificate = read_certificate(certificate_pem);
  auto issuer = read_certificate(issuer_certificate_pem);
  if (!certificate || !issuer) {
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer->get());
  const bool verified = key != nullptr && X509_verify(certificate->get(), key) == 1;
  ERR_clear_error();
  return verified;
}

}  // namespace sconectl::x509
