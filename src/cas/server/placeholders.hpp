#pragma once

// Private to the local CAS: filling in `$$SCONE::name[:format]$$` for an attested program.

#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sconectl::cas::server {

// The value of secret `name` as the session sees it (generated, explicit or imported), with
// whether it was written in the session (`value:`) rather than generated; std::nullopt when the
// session has no value for it.
struct SecretValue {
  StoredSecret stored;
  bool written_in_session = false;
};
using SecretSource = std::function<Result<std::optional<SecretValue>>(const std::string& name)>;

// `text` with every placeholder replaced by the secret's value in the placeholder's format.
// Errors (ErrorKind::manifest) name the placeholder: an unknown secret, a format this CAS cannot
// produce, an encoding filter, an unterminated placeholder.
[[nodiscard]] Result<std::string> resolve_placeholders(std::string_view text,
                                                       const SecretSource& secrets);

}  // namespace sconectl::cas::server
