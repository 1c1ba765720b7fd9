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
  // Named as the CLI's messages name it, so a failure reads the same either way.
  const auto host = services.variables("DOCKER_HOST");
  const auto engine =
      host && !host->empty() ? "DOCKER_HOST=" + *host : std::string("the default socket");
  auto transport = image::unix_socket_transport(*socket, engine);
  if (!transport) {
    return forward_error(std::move(transport.error()));
  }
  docker.look_up_through(std::make_unique<image::DockerEngine>(std::move(*transport), engine));
  spdlog::debug("Docker lookups through the Engine API on {}", *socket);
  return {};
}

}  // namespace sconectl::cli
