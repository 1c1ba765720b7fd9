#pragma once

// Private to the local CAS: who may read, update and create sessions (access_policy).

#include "sconectl/model/session.hpp"

#include <string>
#include <vector>

namespace sconectl::cas::server {

enum class Operation { read, update, create_sessions };

// Why an uploaded session's access_policy cannot be enforced by this CAS (one message each): not
// a mapping, an unknown operation, an entry that is not CREATOR, ANY, NONE, a key hash or a PEM
// certificate, or ANY/NONE next to other entries. Empty when it is acceptable.
[[nodiscard]] std::vector<std::string> check_access_policy(const model::SessionDocument& session);

// Whether the client with key hash `requester` may perform `operation` on a stored session, whose
// `creator` is what CREATOR stands for. Defaults: read and update [CREATOR], create_sessions the
// update list. NONE, or an entry this CAS cannot evaluate, denies everyone.
[[nodiscard]] bool is_permitted(const model::SessionDocument& session,
                                Operation operation,
                                const std::string& requester);

}  // namespace sconectl::cas::server
