#pragma once

// Private to the local CAS: the values it generates for a session's secrets.

#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::cas::server {

// The stored value of secret `secret` of session `session` (an absolute name), for imports;
// std::nullopt when that session has no value for it. `session_hash` is the import's pin on the
// version of `session`, when it has one.
using SecretLookup = std::function<Result<std::optional<StoredSecret>>(
    const std::string& session,
    const std::string& secret,
    const std::optional<std::string>& session_hash)>;

// What an upload replaces, for migration: the current document and its generated values.
struct PreviousVersion {
  const model::SessionDocument& document;
  const SecretValues& values;
};

// The values CAS holds for `session` once it is stored: one for every secret that has neither
// `value` nor `import` (private keys first, then CAs, then certificates), except public-key,
// aad-token and config-fragment, which hold nothing. On an update, ascii and binary values of the
// same name and kind are kept, private keys only when `migrate: true` is set in both versions
// (and the key type is unchanged); certificates are always issued anew. Errors of kind
// ErrorKind::manifest are the uploader's (a missing issuer, a bad `valid_for`); others are ours.
[[nodiscard]] Result<SecretValues> generate_secrets(const model::SessionDocument& session,
                                                    const std::optional<PreviousVersion>& previous,
                                                    const SecretLookup& imported);

}  // namespace sconectl::cas::server
