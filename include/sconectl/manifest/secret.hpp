#pragma once

#include "sconectl/manifest/position.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// Secret kinds of the CAS session language that a manifest may define.
enum class SecretKind { ascii, binary, private_key, public_key, x509, x509_ca, aad_token, pgp_key };

enum class KeyType { p256, p384, ed25519, rsa2048, rsa3072 };

enum class CertificateEndpoint { server, client };

// Who else may use a secret: one session (optionally pinned by hash) or a whole namespace.
struct SecretExport {
  std::optional<std::string> session;
  std::optional<std::string> session_hash;
  std::optional<std::string> namespace_name;
  FieldPositions at;
};

// One entry of `secrets.global` (or of a mesh `image_secrets` file). Attributes mirror the CAS
// session language one to one; which apply depends on `kind` and is checked by validation.
struct SecretDefinition {
  std::string name;
  SecretKind kind = SecretKind::ascii;
  std::optional<std::uint64_t> size;
  std::optional<std::string> value;  // explicit value: never logged, never put into an image
  std::optional<KeyType> key_type;
  std::optional<bool> migrate;
  std::optional<bool> export_public;
  // x509 / x509-ca
  std::optional<std::string> private_key;
  std::optional<std::string> issuer;
  std::optional<std::string> common_name;
  std::vector<std::string> dns;
  std::vector<std::string> san;
  std::optional<CertificateEndpoint> endpoint;
  std::optional<std::string> valid_for;
  // aad-token
  std::optional<std::string> tenant_id;
  std::optional<std::string> client_id;
  std::optional<std::string> application_secret;
  std::optional<std::string> certificate_thumbprint;

  std::vector<SecretExport> exports;
  FieldPositions at;
};

// A name listed in `secrets.import`: defined by another service of the mesh.
struct SecretImport {
  std::string name;
  SourcePosition at;
};

[[nodiscard]] std::string_view to_string(SecretKind kind);
[[nodiscard]] std::optional<SecretKind> secret_kind_from(std::string_view text);
[[nodiscard]] std::string_view to_string(KeyType type);
[[nodiscard]] std::optional<KeyType> key_type_from(std::string_view text);
[[nodiscard]] std::string_view to_string(CertificateEndpoint endpoint);
[[nodiscard]] std::optional<CertificateEndpoint> endpoint_from(std::string_view text);

// Every accepted spelling, in documentation order (for "expected one of ..." messages).
[[nodiscard]] std::vector<std::string_view> secret_kind_names();
[[nodiscard]] std::vector<std::string_view> key_type_names();
[[nodiscard]] std::vector<std::string_view> endpoint_names();

}  // namespace sconectl::manifest
