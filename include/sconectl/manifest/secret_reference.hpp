#pragma once

#include "sconectl/manifest/secret.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// A `$$SCONE::name[:format][|filter]$$` placeholder, resolved by CAS inside the enclave. The legacy
// spellings `name.crt`, `name.key`, `name.chain` and `name.hex` are read as formats too.
struct SecretReference {
  std::string name;
  std::string format;  // empty: the kind's default format
  std::string filter;  // e.g. "escape(json)"; empty when none
  std::string text;    // the placeholder as written
};

struct SecretReferenceScan {
  std::vector<SecretReference> references;
  std::vector<std::string> problems;  // e.g. an unterminated placeholder
};

[[nodiscard]] SecretReferenceScan find_secret_references(std::string_view text);

// Whether `format` may follow a secret of `kind` (empty means the default and is always valid).
[[nodiscard]] bool is_valid_format(SecretKind kind, std::string_view format);

// Whether `format` is valid for at least one kind (used for imported secrets, whose kind is
// defined elsewhere).
[[nodiscard]] bool is_known_format(std::string_view format);

// The formats a kind accepts, for messages: "crt, crt:pem, ...", or "none" for ascii.
[[nodiscard]] std::string describe_formats(SecretKind kind);

}  // namespace sconectl::manifest
