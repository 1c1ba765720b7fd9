#pragma once

// Private to the CLI: the options of `apply`, shared by the service and mesh paths.

#include "cas_options.hpp"
#include "command.hpp"
#include "sconectl/apply/apply_service.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/service.hpp"

#include <optional>
#include <string>

namespace sconectl::cli {

enum class MeshOutput { helm_chart, yaml };

// The flags of the original sconectl's apply, so pipelines carry over, plus our own.
struct ApplyOptions {
  std::string file;
  bool print_defaults = false;
  bool no_registry = false;  // --no-push for a service, --no-pull for a mesh
  model::EnclaveMode mode = model::EnclaveMode::production;
  std::string release;
  std::string target_directory = "target";
  bool dry_run = false;
  MeshOutput output = MeshOutput::helm_chart;
  std::string set_version;
  bool strict = false;
  bool force = false;
  image::Measurer measurer = image::Measurer::content;
  std::string runtime = "none";  // service: "none" or "sim"
  bool allow_persistent_injection = false;
  std::string base_image;
  std::string config_file;
  CasOptions cas;  // mesh: where the client identity lives, timeouts
};

// `apply` of a genservice manifest: build, measure, push, record.
[[nodiscard]] Result<int> apply_service_manifest(const manifest::ServiceManifest& service,
                                                 const ApplyOptions& options,
                                                 const GlobalOptions& global,
                                                 Services& services);

// `apply` of a mesh manifest: policies, Helm chart, (later) upload.
[[nodiscard]] Result<int> apply_mesh_manifest(const manifest::MeshManifest& mesh,
                                              const ApplyOptions& options,
                                              const GlobalOptions& global,
                                              Services& services);

}  // namespace sconectl::cli
