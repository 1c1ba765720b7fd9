#pragma once

#include "sconectl/manifest/secret.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sconectl::manifest {

// How much of a service manifest a JSON rendering may show.
enum class Disclosure {
  // Everything, explicit secret values and injection file contents included: for the service
  // descriptor under target/, which feeds the CAS policies and is written with mode 0600.
  everything,
  // Names, kinds and paths only: no environment value (local values are confidential, and global
  // defaults are values written in the manifest too), no explicit secret value, no AAD account
  // (tenant, client, application secret, thumbprint), no injection file content (files that exist
  // only inside the enclave may
  // hold credentials): for image labels, which anyone who can pull the image reads.
  public_only,
};

// The service's policy-relevant metadata: command, pwd, environment, secrets, imported secrets,
// injection files and volumes. Deterministic (keys sorted).
[[nodiscard]] nlohmann::json service_metadata(const ServiceManifest& service,
                                              Disclosure disclosure);

[[nodiscard]] nlohmann::json to_json(const SecretDefinition& secret, Disclosure disclosure);

// The reading side of the two above: what a service descriptor or an image label holds, back in
// typed form, for the mesh step.
// An injection file as the mesh learns it. The content is absent when the source did not carry it
// (image labels never do: such files may hold credentials).
struct ImageInjectionFile {
  std::string path;
  std::optional<std::string> content;
};

// The policy-relevant facts about one service, read back from the JSON that
// service_metadata() wrote into a service descriptor or an image label.
struct ServiceMetadata {
  std::string build_name;
  std::vector<std::string> command;
  std::optional<std::string> pwd;
  std::vector<EnvironmentVariable> local_environment;
  std::vector<EnvironmentVariable> global_environment;
  std::vector<SecretDefinition> secrets;
  // Environment variables (local or global) whose value the source withheld.
  std::vector<std::string> withheld_environment_values;
  // Secrets whose explicit value (or AAD application secret) the source withheld.
  std::vector<std::string> withheld_secret_values;
  std::vector<std::string> imported_secrets;
  std::vector<ImageInjectionFile> injection_files;
  std::vector<Volume> volumes;
};

// Fails with a message naming the first malformed field.
[[nodiscard]] Result<ServiceMetadata> service_metadata_from_json(const nlohmann::json& json);

}  // namespace sconectl::manifest
