#pragma once

// Private to the local CAS: which parts of the session language it stores and honours.

#include "sconectl/model/session.hpp"

#include <string>
#include <vector>

namespace sconectl::cas::server {

// Every construct of `session` that this CAS (with the simulation runtime behind it) does not
// honour, one message each, naming where it is and why ("services[0].fspf_path: not supported by
// this CAS: ..."), and every key the session language does not have. A session with any of them
// is refused (400) rather than stored with a part silently ignored. docs/cas.md, "Session
// language", lists what is supported. The attestation endpoint checks again, for sessions stored
// by an older CAS.
[[nodiscard]] std::vector<std::string> unsupported_constructs(
    const model::SessionDocument& session);

}  // namespace sconectl::cas::server
