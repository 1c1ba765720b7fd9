#pragma once

#include "sconectl/util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sconectl::cas {

// A TLS identity: a private key and its certificate, both PEM.
struct TlsIdentity {
  std::string private_key_pem;
  std::string certificate_pem;
};

struct IdentitySubject {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

// A fresh P-256 key with a self-signed certificate valid until 4096 (as CAS identities are).
[[nodiscard]] Result<TlsIdentity> create_identity(const IdentitySubject& subject);

// The single-text form used by config.json's "identity": the PKCS#8 key followed by the
// certificate.
[[nodiscard]] std::string to_pem(const TlsIdentity& identity);
[[nodiscard]] Result<TlsIdentity> parse_identity(std::string_view pem);

}  // namespace sconectl::cas
