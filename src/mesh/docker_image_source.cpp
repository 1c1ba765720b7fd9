#include "sconectl/image/measure_image.hpp"
#include "sconectl/mesh/resolve.hpp"

namespace sconectl::mesh {

// The mesh step reads images through ImageSource; this is the one backed by the Docker CLI.

Result<std::optional<image::ImageInfo>> DockerImageSource::inspect(const std::string& reference,
                                                                   bool pull)
{
  auto info = m_docker.inspect(reference);
  if (!info || *info || !pull) {
    return info;
  }
  if (auto pulled = m_docker.pull(reference); !pulled) {
    return forward_error(std::move(pulled.error()));
  }
  return m_docker.inspect(reference);
}

Result<std::string> DockerImageSource::measure(const image::MeasureRequest& request)
{
  return image::measure_image(request, m_docker);
}

Result<std::map<std::string, std::string>> DockerImageSource::local_image_ids()
{
  return m_docker.image_ids();
}

}  // namespace sconectl::mesh
