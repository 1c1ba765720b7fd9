#pragma once

#include "sconectl/manifest/service.hpp"

#include <nlohmann/json.hpp>

namespace sconectl::manifest {

// How much of a service manifest a JSON rendering may show.
enum class Disclosure {
  // Everything, explicit secret values and injection file contents included: for the service
  // descriptor under target/, which feeds the CAS policies and is written with mode 0600.
  everything,
  // No explicit secret value, no AAD application secret, no injection file content (files that
  // exist only inside the enclave may hold credentials): for image labels.
  public_only,
};

// The service's policy-relevant metadata: command, pwd, environment, secrets, imported secrets,
// injection files and volumes. Deterministic (keys sorted).
[[nodiscard]] nlohmann::json service_metadata(const ServiceManifest& service,
                                              Disclosure disclosure);

[[nodiscard]] nlohmann::json to_json(const SecretDefinition& secret, Disclosure disclosure);

}  // namespace sconectl::manifest
