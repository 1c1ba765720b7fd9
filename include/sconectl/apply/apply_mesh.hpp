#pragma once

#include "sconectl/cas/connect.hpp"
#include "sconectl/cas/upload.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/mesh/resolve.hpp"
#include "sconectl/model/enclave_mode.hpp"
#include "sconectl/model/resolved_mesh.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// `apply -f mesh.yaml` as a library call: resolve, generate, write, and upload.
namespace sconectl::apply {

struct MeshApplyOptions {
  std::filesystem::path target_dir = "target";
  bool pull = true;
  image::Measurer measurer = image::Measurer::content;
  model::EnclaveMode mode = model::EnclaveMode::production;
  std::string release;           // Helm release (and chart) name; empty: from the namespace
  bool write_manifests = false;  // -o yaml: also target/manifests/
  mesh::ImageSource* images = nullptr;
  // A new service access token (64 hex digits); empty: 32 random bytes from OpenSSL. Tests pass a
  // fixed one so that generated files stay comparable.
  std::function<Result<std::string>()> new_access_token;
};

struct MeshApplyResult {
  model::ResolvedMesh mesh;
  std::vector<model::Session> sessions;  // namespace first
  std::vector<std::filesystem::path> session_files;
  std::string chart_name;
  std::filesystem::path chart_dir;
  std::optional<std::filesystem::path> manifests_dir;
  // target/k8s-secrets/<secret>.yaml: the Secret holding a simulated service's access token, one
  // per such service (mode 0600), to `kubectl apply -f` before installing the chart.
  std::vector<std::filesystem::path> secret_files;
};

// Where the service access tokens of a mesh's simulated services are kept between applies:
// target/cas/access-tokens.json, mode 0600 ({"<session>": "<token>"}).
[[nodiscard]] std::filesystem::path access_token_file(const std::filesystem::path& target_dir);

// Where the policy of session `name` is written: target/policies/<name>.yaml, one directory level
// per namespace ("ns/svc" -> target/policies/ns/svc.yaml).
[[nodiscard]] std::filesystem::path session_file(const std::filesystem::path& target_dir,
                                                 const std::string& name);

// Resolves the mesh's services, generates and validates its CAS sessions and its Helm chart, and
// writes them under the target directory: policies (mode 0600: they hold explicit secret values)
// in target/policies, the chart in target/helm, with write_manifests the rendered objects in
// target/manifests. Each directory is replaced as a whole. Uploads nothing.
// A service built with --runtime sim gets a service access token in its session, kept across
// applies in access_token_file(), and a Kubernetes Secret holding it in target/k8s-secrets (mode
// 0600, replaced as a whole), which the chart names but does not contain.
[[nodiscard]] Result<MeshApplyResult> generate_mesh(const manifest::MeshManifest& mesh,
                                                    const MeshApplyOptions& options);

// Success when `release` is empty or a valid Helm release name; otherwise a usage error naming
// --release and the reason.
[[nodiscard]] Result<void> check_release(const std::string& release);

// Whether the mesh's policies go to its CAS: Upload does, NoUpload and `dry_run` do not. The
// signing and encrypting modes are refused (kind usage) before anything is generated.
[[nodiscard]] Result<bool> wants_upload(const manifest::MeshManifest& mesh, bool dry_run);

// Uploads the generated sessions over `connection` (cas::upload_sessions), continuing the
// predecessor chains recorded in target/cas/sessions.json; what the CAS accepted is recorded there
// even when a later session fails. A record made for another CAS is started afresh.
// `known`: the current versions as a plan just read them (not read again).
[[nodiscard]] Result<cas::UploadReport> upload_policies(
    cas::CasConnection& connection,
    std::size_t concurrency,
    const std::vector<model::Session>& sessions,
    const std::filesystem::path& target_dir,
    const cas::CurrentVersions* known = nullptr);

}  // namespace sconectl::apply
