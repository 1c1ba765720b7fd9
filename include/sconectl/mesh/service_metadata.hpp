#pragma once

#include "sconectl/manifest/secret.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sconectl::mesh {

// An injection file as the mesh learns it. The content is absent when the source did not carry it
// (image labels never do: such files may hold credentials).
struct ImageInjectionFile {
  std::string path;
  std::optional<std::string> content;
};

// The policy-relevant facts about one service, read back from the JSON that
// manifest::service_metadata() wrote into a service descriptor or an image label.
struct ServiceMetadata {
  std::string build_name;
  std::vector<std::string> command;
  std::optional<std::string> pwd;
  std::vector<manifest::EnvironmentVariable> local_environment;
  std::vector<manifest::EnvironmentVariable> global_environment;
  std::vector<manifest::SecretDefinition> secrets;
  // Secrets whose explicit value (or AAD application secret) the source withheld.
  std::vector<std::string> withheld_secret_values;
  std::vector<std::string> imported_secrets;
  std::vector<ImageInjectionFile> injection_files;
  std::vector<manifest::Volume> volumes;
};

// Fails with a message naming the first malformed field.
[[nodiscard]] Result<ServiceMetadata> service_metadata_from_json(const nlohmann::json& json);

// One secret definition in the form manifest::to_json(SecretDefinition) writes.
[[nodiscard]] Result<manifest::SecretDefinition> secret_from_json(const nlohmann::json& json);

}  // namespace sconectl::mesh
