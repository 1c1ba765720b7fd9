#pragma once

#include "sconectl/image/docker_cli.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/secret.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/diagnostic.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::mesh {

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

// Reads images when no descriptor describes them: the Docker CLI in production, fakes in tests.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The image's facts; pulls it first when it is missing and `pull` is set. std::nullopt when it
  // is not available locally.
  [[nodiscard]] virtual Result<std::optional<image::ImageInfo>> inspect(
      const std::string& reference, bool pull) = 0;
  [[nodiscard]] virtual Result<std::string> measure(const image::MeasureRequest& request) = 0;
  // "repository:tag" -> id of every local image, to check descriptors against in one call.
  [[nodiscard]] virtual Result<std::map<std::string, std::string>> local_image_ids() = 0;
};

class DockerImageSource final : public ImageSource {
 public:
  explicit DockerImageSource(image::DockerCli& docker) : m_docker(docker) {}
  [[nodiscard]] Result<std::optional<image::ImageInfo>> inspect(const std::string& reference,
                                                                bool pull) override;
  [[nodiscard]] Result<std::string> measure(const image::MeasureRequest& request) override;
  [[nodiscard]] Result<std::map<std::string, std::string>> local_image_ids() override;

 private:
  image::DockerCli& m_docker;
};

struct ResolveOptions {
  std::filesystem::path target_dir = "target";
  bool pull = true;
  image::Measurer measurer = image::Measurer::content;
  // nullptr: only service descriptors are used (no Docker needed).
  ImageSource* images = nullptr;
};

// Finds every service's metadata and resolves its environment, `{{NAME}}` references and
// secrets. Precedence of a variable's value (docs/mesh.md): the service's `environment.local`
// (fixed), else the mesh `env` entry for the service, for `helm`, for `global`, else the
// service's own `environment.global` default. Reports every problem at once.
[[nodiscard]] Result<ResolvedMesh> resolve_mesh(const manifest::MeshManifest& mesh,
                                                const ResolveOptions& options);

struct Substitution {
  std::string text;
  std::vector<std::string> undefined;
};

// Replaces each `{{NAME}}` (spaces inside the braces allowed; NAME of letters, digits, '_', '.',
// '-') by lookup(NAME). Other `{{...}}` text is kept as it is.
[[nodiscard]] Substitution substitute_mesh_references(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace sconectl::mesh
