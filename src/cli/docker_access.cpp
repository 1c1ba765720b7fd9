#include "command.hpp"
#include "sconectl/image/docker_engine.hpp"

namespace sconectl::cli {

Result<void> use_engine_api(image::DockerCli& docker, const Services& services)
{
  if (!services.docker_engine_api) {
    return {};
  }
  return image::look_up_through_engine_api(docker, services.variables);
}

}  // namespace sconectl::cli
