#pragma once

// Private to the local CAS: who may read, update and create sessions (access_policy).

#include "sconectl/model/session.hpp"
#include "store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::cas::server {

enum class Operation { read, update, create_sessions };

// A secret of the session whose access is decided (for an entry `$$SCONE::name$$`, a
// certificate; for `access_policy: $$SCONE::name$$`, a config-fragment), or std::nullopt when it
// has none.
using SecretText = std::function<std::optional<StoredSecret>(const std::string& name)>;

// Why an uploaded session's access_policy cannot be enforced by this CAS (one message each): not
// a mapping (or `$$SCONE::name$$` naming a config-fragment secret that the session defines or
// imports; a fragment defined here is checked as if written inline), an unknown operation, an entry
// that is not CREATOR, ANY, NONE, a key hash, a PEM certificate or `$$SCONE::name$$` naming a
// certificate secret (x509, x509-ca or imported) of the session, or ANY/NONE next to other entries.
// Empty when it is acceptable.
[[nodiscard]] std::vector<std::string> check_access_policy(const model::SessionDocument& session);

// Whether the client with key hash `requester` may perform `operation` on a stored session, whose
// `creator` is what CREATOR stands for. Defaults: read and update [CREATOR], create_sessions the
// update list. NONE, or an entry this CAS cannot evaluate, denies everyone. `access_policy:
// $$SCONE::name$$` is the config-fragment that `secrets` gives for `name` now, enforced as if
// written inline; when it cannot be resolved (no `secrets`, a source that no longer exports it,
// a value that is not a mapping of the kind config-fragment), nobody is admitted. A
// `$$SCONE::name$$` entry admits the key of the certificate that `secrets` gives for it (nobody
// without `secrets`). The SecretText of stored session `session`: each name resolved as the
// session's programs see it (imports followed and checked); nothing when it cannot be resolved.
[[nodiscard]] SecretText stored_secret_text(Store& store, const std::string& session);

[[nodiscard]] bool is_permitted(const model::SessionDocument& session,
                                Operation operation,
                                const std::string& requester,
                                const SecretText& secrets = {});

}  // namespace sconectl::cas::server
