#pragma once

// Private to the CLI: the options of `apply`, shared by the service and mesh paths.

#include "cas_options.hpp"
#include "command.hpp"
#include "sconectl/apply/apply_mesh.hpp"
#include "sconectl/apply/apply_service.hpp"
#include "sconectl/apply/plan_mesh.hpp"
#include "sconectl/manifest/load.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/service.hpp"

#include <optional>
#include <string>

namespace sconectl::cli {

enum class MeshOutput { helm_chart, yaml };
// What runs the program of a built service: the program itself, or the simulation runtime.
enum class ServiceRuntime { none, sim };

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
  ServiceRuntime runtime = ServiceRuntime::none;  // service
  bool allow_persistent_injection = false;
  std::string base_image;
  std::string config_file;
  CasOptions cas;                          // mesh: where the client identity lives, timeouts
  std::string plan_file;                   // mesh: upload exactly this reviewed plan (diff --out)
  bool allow_secret_regeneration = false;  // mesh, production: consent to a password roll
  bool force_conflicts = false;            // mesh: replace versions changed elsewhere
  bool allow_weaker_attestation = false;   // mesh, production: consent to weaker attestation
};

// `apply` of a genservice manifest: build, measure, push, record.
[[nodiscard]] Result<int> apply_service_manifest(const manifest::ServiceManifest& service,
                                                 const ApplyOptions& options,
                                                 const GlobalOptions& global,
                                                 Services& services);

// Reads the manifest `apply -f` (and `diff -f`) names, printing its warnings.
[[nodiscard]] Result<manifest::Document> load_apply_manifest(const ApplyOptions& options,
                                                             Services& services);

// The options diff and verify share with apply: -f (required), --mode, --release and -t, with the
// help texts of the command.
void add_mesh_file_options(CLI::App& command,
                           ApplyOptions& options,
                           const std::string& mode_help,
                           const std::string& release_help);

// The mesh manifest a command that needs one (diff, verify) reads; a genservice manifest is a
// usage error that says what the command does (`purpose`).
[[nodiscard]] Result<manifest::MeshManifest> load_mesh_manifest(const ApplyOptions& options,
                                                                Services& services,
                                                                const std::string& purpose);

// A mesh's generated policies and chart, and when asked for, the connection to its CAS.
struct GeneratedMesh {
  std::optional<cas::CasConnection> connection;
  apply::MeshApplyResult result;
};

// What `diff -f mesh.yaml` and `verify -f mesh.yaml` share with apply: checks the release name,
// connects to the mesh's CAS when `connect_for` names why (its errors say so: "comparing with
// the CAS"), before anything is generated, so a trust problem is reported first, and generates
// everything as `apply --dry-run` does.
// Where the services' images are known from.
enum class ImageFacts {
  docker,       // the descriptors, checked against the local images (pulled when missing)
  descriptors,  // the descriptors alone: what was recorded, whatever the local images are now
};
[[nodiscard]] Result<GeneratedMesh> generate_for_cas(const manifest::MeshManifest& mesh,
                                                     const ApplyOptions& options,
                                                     std::optional<std::string> connect_for,
                                                     Services& services,
                                                     ImageFacts facts = ImageFacts::docker);

// What uploading the generated sessions would do (apply::plan_mesh), against the upload record in
// `target_directory`. Needs the connection.
// `compare.show_values`: the changes show the values a manifest wrote (diff --show-values).
[[nodiscard]] Result<apply::MeshPlan> plan_upload(GeneratedMesh& generated,
                                                  const std::string& target_directory,
                                                  const diff::CompareOptions& compare = {});

// `apply` of a mesh manifest: policies, Helm chart, (later) upload.
[[nodiscard]] Result<int> apply_mesh_manifest(const manifest::MeshManifest& mesh,
                                              const ApplyOptions& options,
                                              const GlobalOptions& global,
                                              Services& services);

}  // namespace sconectl::cli
