#pragma once

#include "sconectl/image/docker_cli.hpp"
#include "sconectl/util/error.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Read-only lookups (version, image inspect, image list) through the Docker Engine API on the
// daemon's unix socket, instead of starting the Docker CLI for each: the CLI costs tens of
// milliseconds per call, the API call well under one. Building, pushing, pulling, saving and
// running stay with the CLI (docs/architecture.md, "Docker"), which also keeps registry logins its
// business.
namespace sconectl::image {

struct EngineResponse {
  long status = 0;
  std::string body;
};

// GET requests to the engine; tests answer them from memory.
class EngineTransport {
 public:
  virtual ~EngineTransport() = default;
  // An error (ErrorKind::process) only when the engine cannot be reached at all.
  [[nodiscard]] virtual Result<EngineResponse> get(const std::string& path) = 0;
};

// HTTP/1.1 over the unix socket at `socket_path`, one connection kept for every request. `engine`
// says where it is for messages, as the CLI would ("DOCKER_HOST=unix://...", "the default
// socket"); empty: "unix://<socket_path>". A request that gets no whole answer within `timeout`
// fails.
[[nodiscard]] Result<std::unique_ptr<EngineTransport>> unix_socket_transport(
    std::string socket_path,
    std::string engine = {},
    std::chrono::milliseconds timeout = std::chrono::minutes(2));

// The unix socket the Docker CLI would use, read as the CLI reads it: DOCKER_HOST
// (unix://PATH), else /var/run/docker.sock. std::nullopt when the CLI would go elsewhere (a tcp or
// ssh DOCKER_HOST, DOCKER_CONTEXT, or a current context in the CLI's config.json): those keep to
// the CLI, which knows how to reach them.
[[nodiscard]] std::optional<std::string> engine_socket(
    const std::function<std::optional<std::string>(std::string_view)>& environment);

class DockerEngine final : public ImageLookup {
 public:
  // `engine` describes where it is, for messages ("DOCKER_HOST=unix:///run/docker.sock").
  DockerEngine(std::unique_ptr<EngineTransport> transport, std::string engine);

  [[nodiscard]] Result<std::string> server_version() override;
  [[nodiscard]] Result<std::optional<ImageInfo>> inspect(const std::string& reference) override;
  [[nodiscard]] Result<std::map<std::string, std::string>> image_ids() override;

 private:
  [[nodiscard]] Result<EngineResponse> get(const std::string& path);
  [[nodiscard]] Error failure(const std::string& action, const EngineResponse& response) const;

  std::unique_ptr<EngineTransport> m_transport;
  std::string m_engine;
};

// Sends `docker`'s lookups (version, inspect, image list) to the Engine API when the engine is on
// a local unix socket (engine_socket); otherwise leaves them with the CLI. The API answers the
// same questions without starting a process per lookup.
[[nodiscard]] Result<void> look_up_through_engine_api(DockerCli& docker,
                                                      const manifest::VariableLookup& environment);

}  // namespace sconectl::image
