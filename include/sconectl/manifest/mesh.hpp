#pragma once

#include "sconectl/manifest/api_version.hpp"
#include "sconectl/manifest/position.hpp"
#include "sconectl/manifest/secret.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// `cas[].mode`: what `apply` does with the generated policies.
enum class PolicyHandling {
  upload,
  signed_manifest,
  encrypted_manifest,
  no_upload,
  encrypted_only,
  sign_online,
};

[[nodiscard]] std::string_view to_string(PolicyHandling mode);
[[nodiscard]] std::optional<PolicyHandling> policy_handling_from(std::string_view text);
[[nodiscard]] std::vector<std::string_view> policy_handling_names();

struct CasInstance {
  std::string name;
  std::vector<std::string> aliases;
  std::string cas_url;  // host or host:port
  std::optional<std::string> cas_key;
  std::optional<std::string> cas_software_key;
  std::optional<std::string> cas_encryption_key;
  std::optional<std::string> tolerance;
  std::optional<PolicyHandling> mode;
  FieldPositions at;
};

struct MeshPolicy {
  std::string namespace_name;
  std::vector<std::string> tolerate;           // split from the comma-separated text
  std::vector<std::string> ignore_advisories;  // "*" stays a single entry
  std::optional<std::string> maa;
  std::optional<std::string> image_policy_namespace;
  std::optional<std::string> access_policy_name;
  std::optional<std::string> attestation_policy_name;
  std::optional<std::string> security_policy_name;
  FieldPositions at;
};

struct MeshVariable {
  std::string name;
  std::string value;
  FieldPositions at;
};

// One `env[]` block. `service` is "global", "helm" or a service name. The legacy flat list
// (before July 2022) is read as a single "global" block.
struct MeshEnvironment {
  std::string service;
  std::vector<MeshVariable> variables;
  FieldPositions at;
};

struct MeshService {
  std::string name;
  bool name_derived_from_image = false;
  std::string image;
  std::optional<std::string> image_secrets;                // path relative to the mesh file
  std::vector<SecretDefinition> image_secret_definitions;  // read from that file
  std::optional<std::string> image_policy;
  std::optional<std::string> env_file;
  std::optional<std::string> helm_chart;
  nlohmann::json helm_extra_values;  // null when absent
  FieldPositions at;
};

struct Repo {
  std::string destination;
  std::optional<bool> push;
  std::optional<bool> squash;
  std::optional<bool> strip;
  std::optional<std::string> key_file;
  std::optional<std::string> config_id;
  FieldPositions at;
};

struct ExtraPolicy {
  std::string name;
  std::optional<std::string> mode;
};

// A `kind: mesh` manifest after variable expansion and validation.
struct MeshManifest {
  std::string source;
  std::filesystem::path base_dir;
  ApiVersion api_version;
  std::vector<CasInstance> cas;
  MeshPolicy policy;
  std::vector<MeshEnvironment> environment;
  std::vector<MeshService> services;
  std::optional<Repo> repo;
  nlohmann::json helm_extra_values;  // null when absent
  std::vector<ExtraPolicy> extra_policies;
};

// The CAS instance that plays `role` ("cas", "image", "security", "access", "attestation"): the
// one named so or listing it in `alias`. nullptr when none does.
[[nodiscard]] const CasInstance* cas_for_role(const MeshManifest& mesh, std::string_view role);

}  // namespace sconectl::manifest
