#pragma once

#include "sconectl/image/docker_cli.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/model/resolved_mesh.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// Mesh resolution: finds each mesh service's metadata (service descriptors, or the image itself
// through an ImageSource) and resolves it into the model the generators read.
namespace sconectl::mesh {

// Reads images when no descriptor describes them: the Docker CLI in production, fakes in tests.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The image's facts; pulls it first when it is missing and `pull` is set. std::nullopt when it
  // is not available locally.
  [[nodiscard]] virtual Result<std::optional<image::ImageInfo>> inspect(
      const std::string& reference, bool pull) = 0;
  [[nodiscard]] virtual Result<std::string> measure(const image::MeasureRequest& request) = 0;
  // "repository:tag" -> id of those of `references` that exist locally (maybe of more images), to
  // check descriptors against.
  [[nodiscard]] virtual Result<std::map<std::string, std::string>> local_image_ids(
      const std::vector<std::string>& references) = 0;
};

class DockerImageSource final : public ImageSource {
 public:
  explicit DockerImageSource(image::DockerCli& docker) : m_docker(docker) {}
  [[nodiscard]] Result<std::optional<image::ImageInfo>> inspect(const std::string& reference,
                                                                bool pull) override;
  [[nodiscard]] Result<std::string> measure(const image::MeasureRequest& request) override;
  [[nodiscard]] Result<std::map<std::string, std::string>> local_image_ids(
      const std::vector<std::string>& references) override;

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
[[nodiscard]] Result<model::ResolvedMesh> resolve_mesh(const manifest::MeshManifest& mesh,
                                                       const ResolveOptions& options);

}  // namespace sconectl::mesh
