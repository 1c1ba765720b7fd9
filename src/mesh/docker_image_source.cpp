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
  TRY(m_docker.pull(reference));
  return m_docker.inspect(reference);
}

Result<std::string> DockerImageSource::measure(const image::MeasureRequest& request)
{
  return image::measure_image(request, m_docker);
}

Result<std::map<std::string, std::string>> DockerImageSource::local_image_ids(
    const std::vector<std::string>& references)
{
  // Listing every image costs the engine time in proportion to all it holds (0.1 s for some
  // hundreds); one inspect over the Engine API costs about a millisecond. Through the CLI, each
  // inspect is a process, so one listing is cheaper.
  constexpr std::size_t k_inspect_at_most = 64;
  if (!m_docker.looks_up_through_engine() || references.size() > k_inspect_at_most) {
    return m_docker.image_ids();
  }
  std::map<std::string, std::string> ids;
  for (const auto& reference : references) {
    auto info = m_docker.inspect(reference);
    if (!info) {
      return forward_error(std::move(info.error()));
    }
    if (*info) {
      ids[reference] = (*info)->id;
    }
  }
  return ids;
}

}  // namespace sconectl::mesh
