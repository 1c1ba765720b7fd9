#include "sconectl/cas/identity.hpp"

#include "sconectl/util/x509.hpp"

namespace sconectl::cas {

Result<TlsIdentity> create_identity(const IdentitySubject& subject)
{
  auto key = x509::generate_private_key(x509::KeyType::p256);
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  auto certificate =
      x509::issue_certificate(x509::CertificateSpec{.common_name = subject.common_name,
                                                    .dns_names = subject.dns_names,
                                                    .ip_addresses = subject.ip_addresses},
                              *key,
                              std::nullopt);
  if (!certificate) {
    return forward_error(std::move(certificate.error()));
  }
  return TlsIdentity{.private_key_pem = std::move(*key),
                     .certificate_pem = std::move(*certificate)};
}

std::string to_pem(const TlsIdentity& identity)
{
  return identity.private_key_pem + identity.certificate_pem;
}

Result<TlsIdentity> parse_identity(std::string_view pem)
{
  constexpr std::string_view key_begin = "-----BEGIN PRIVATE KEY-----";
  constexpr std::string_view key_end = "-----END PRIVATE KEY-----";
  const auto begin = pem.find(key_begin);
  const auto end = pem.find(key_end);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return fail(ErrorKind::io, "the identity holds no PEM PKCS#8 private key");
  }
  auto key_text = std::string(pem.substr(begin, end + key_end.size() - begin)) + "\n";
  auto certificates = x509::split_certificates(pem);
  if (!certificates) {
    return fail(ErrorKind::io, "the identity holds no PEM certificate after its key");
  }
  auto key_spki = x509::private_key_spki(key_text);
  auto certificate_spki = x509::certificate_spki(certificates->front());
  if (!key_spki || !certificate_spki || *key_spki != *certificate_spki) {
    return fail(ErrorKind::io, "the identity's certificate is not for its private key");
  }
  return TlsIdentity{.private_key_pem = std::move(key_text),
                     .certificate_pem = certificates->front()};
}

}  // namespace sconectl::cas
