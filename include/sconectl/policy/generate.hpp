#pragma once

#include "sconectl/model/enclave_mode.hpp"
#include "sconectl/model/resolved_mesh.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <vector>

namespace sconectl::policy {

struct PolicyOptions {
  model::EnclaveMode mode = model::EnclaveMode::production;
};

// The sessions that enforce a mesh: its namespace session first, then one session per service
// named "<namespace>/<service>", with the service's command, environment, attestation, images,
// secrets (generated ones as definitions only), imports from the sessions that export to it,
// volumes and the mesh's attestation tolerations. Deterministic for the same input.
[[nodiscard]] Result<std::vector<model::Session>> generate_sessions(const model::ResolvedMesh& mesh,
                                                                    const PolicyOptions& options);

}  // namespace sconectl::policy
