#pragma once

#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/image/apply_service.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/mesh/resolve.hpp"
#include "sconectl/policy/session.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace sconectl::mesh {

struct MeshApplyOptions {
  std::filesystem::path target_dir = "target";
  bool pull = true;
  image::Measurer measurer = image::Measurer::content;
  image::EnclaveMode mode = image::EnclaveMode::production;
  std::string release;           // Helm release (and chart) name; empty: from the namespace
  bool write_manifests = false;  // -o yaml: also target/manifests/
  ImageSource* images = nullptr;
};

struct MeshApplyResult {
  ResolvedMesh mesh;
  std::vector<policy::Session> sessions;  // namespace first
  std::vector<std::filesystem::path> session_files;
  std::string chart_name;
  std::filesystem::path chart_dir;
  std::optional<std::filesystem::path> manifests_dir;
};

// Where the policy of session `name` is written: target/policies/<name>.yaml, one directory level
// per namespace ("ns/svc" -> target/policies/ns/svc.yaml).
[[nodiscard]] std::filesystem::path session_file(const std::filesystem::path& target_dir,
                                                 const std::string& name);

// Resolves the mesh's services, generates and validates its CAS sessions and its Helm chart, and
// writes them under the target directory: policies (mode 0600: they hold explicit secret values)
// in target/policies, the chart in target/helm, with write_manifests the rendered objects in
// target/manifests. Each directory is replaced as a whole. Uploads nothing.
[[nodiscard]] Result<MeshApplyResult> generate_mesh(const manifest::MeshManifest& mesh,
                                                    const MeshApplyOptions& options);

}  // namespace sconectl::mesh
