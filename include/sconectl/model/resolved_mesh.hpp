#pragma once

#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/secret.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/diagnostic.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

// A mesh with every service resolved: what the policy generator and the chart generator read.
// Produced by mesh::resolve_mesh; holds no Docker or CAS types.
namespace sconectl::model {

// Where a mesh service's metadata was found.
enum class MetadataSource {
  descriptor,    // target/services/<name>.json written by `apply -f service.yaml`
  image_labels,  // the dev.sconectl.service label of the image, measured by the mesh step
};

struct InjectionFile {
  std::string path;
  std::string content;
};

// One mesh service with everything its policy and its chart entry need, all references resolved.
struct ResolvedService {
  std::string name;                         // the mesh's service name
  std::string session;                      // "<namespace>/<name>"
  std::string image;                        // the reference the mesh names
  std::optional<std::string> image_digest;  // registry digest "sha256:...", when known
  MetadataSource source = MetadataSource::descriptor;
  std::string source_detail;  // the descriptor's path, or the image
  std::string measurement;    // MRENCLAVE, 64 hex digits
  std::string measurement_method;
  // Built with `--runtime sim`: the pod runs the simulation runtime, which attests to the CAS
  // (no SGX) and needs the CAS's address and key.
  bool simulation_runtime = false;
  // security.service_access_token of its session, which the pod presents when it attests (set by
  // apply for simulation_runtime services; empty: none). Never part of the chart.
  std::string access_token;
  std::vector<std::string> command;
  std::string pwd;
  // The program's environment, delivered by CAS after attestation. SCONE_* runtime settings are
  // not part of it: they are baked into the image and consumed before attestation.
  std::map<std::string, std::string> environment;
  // The mesh `env` values for this service (global < helm < own name): the chart's inputs.
  std::map<std::string, std::string> settings;
  std::vector<manifest::SecretDefinition> secrets;
  std::vector<std::string> imported_secrets;
  std::vector<InjectionFile> injection_files;
  std::vector<manifest::Volume> volumes;
  nlohmann::json helm_extra_values;  // null when absent
};

struct ResolvedMesh {
  manifest::MeshManifest manifest;
  std::vector<ResolvedService> services;  // in manifest order
  std::vector<Diagnostic> warnings;
};

}  // namespace sconectl::model
