#pragma once

// Private to the local CAS: reading secret values back, for imports and for /v1/values.

#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <optional>
#include <string>

namespace sconectl::cas::server {

// A session that asks another for a secret it imports.
struct Importer {
  std::string session;
  std::string hash;                        // its version, for exports pinned by session_hash
  std::optional<std::string> source_hash;  // the import's own session_hash, when it has one
};

// The value that the current version of `session` holds for `secret`: a generated one, an
// explicit `value` (as written), or, for an import, the value of the session it imports from
// (followed a few hops, never in a circle). std::nullopt when there is none. Each import is
// checked when it is followed, because the source may have changed since the importer was
// uploaded (or not have existed then): the source must export the secret to the importer (to its
// version, when the export names a session_hash) and be at the import's session_hash, when it
// names one; otherwise ErrorKind::manifest, naming both. `importer`, when given, is who asks for
// `session`'s secret.
[[nodiscard]] Result<std::optional<StoredSecret>> find_stored_secret(
    Store& store,
    const std::string& session,
    const std::string& secret,
    const std::optional<Importer>& importer = std::nullopt);

// What /v1/values shows for secret `name` of a session: an explicit `value` as written, ascii as
// is, binary as lower-case hex, a private key as its public key (PEM), a public-key secret as the
// public key of its private_key, certificates as PEM. std::nullopt when it has no value here.
[[nodiscard]] Result<std::optional<std::string>> public_value_text(
    const model::SessionDocument& session, const std::string& name, const SecretValues& values);

}  // namespace sconectl::cas::server
