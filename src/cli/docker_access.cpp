#include "command.hpp"
#include "sconectl/image/docker_engine.hpp"

#include <spdlog/spdlog.h>

namespace sconectl::cli {

Result<void> use_engine_api(image::DockerCli& docker, const Services& services)
{
  if (!services.docker_engine_api) {
    return {};
  }
  const auto socket = image::engine_socket(services.variables);
  if (!socket) {
    spdlog::debug("Docker lookups through the CLI: DOCKER_HOST or a context points elsewhere");
    return {};
  }
  auto transport = image::unix_socket_transport(*socket);
  if (!transport) {
    return forward_error(std::move(transport.error()));
  }
  const auto host = services.variables("DOCKER_HOST");
  docker.look_up_through(std::make_unique<image::DockerEngine>(
      std::move(*transport),
      host && !host->empty() ? "DOCKER_HOST=" + *host : std::string("the default socket")));
  spdlog::debug("Docker lookups through the Engine API on {}", *socket);
  return {};
}

}  // namespace sconectl::cli
