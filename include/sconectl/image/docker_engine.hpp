#pragma once

#include "sconectl/image/docker_cli.hpp"
#include "sconectl/image/registry_client.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/http1.hpp"

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

using EngineResponse = http1::Response;

// Extra request headers ("X-Registry-Auth").
using EngineHeaders = std::map<std::string, std::string>;

// Requests to the engine (GET only); tests answer them from memory. An error (ErrorKind::process)
// only when the engine cannot be reached at all.
using EngineTransport = http1::Transport;

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

// The X-Registry-Auth header the Docker CLI would send for `reference`'s registry: the login
// `docker login` stored in the CLI's config.json (DOCKER_CONFIG, else ~/.docker) under "auths",
// as base64url JSON. std::nullopt without a stored login, or when a credential helper holds it
// (only the CLI runs those).
[[nodiscard]] std::optional<std::string> registry_auth_header(
    const std::string& reference,
    const std::function<std::optional<std::string>(std::string_view)>& environment);

class DockerEngine final : public ImageLookup {
 public:
  // `engine` describes where it is, for messages ("DOCKER_HOST=unix:///run/docker.sock");
  // `environment` is where the CLI's config.json is found, for registry logins; `registry`, when
  // given, is asked before the engine for a registry's digest.
  DockerEngine(std::unique_ptr<EngineTransport> transport,
               std::string engine,
               manifest::VariableLookup environment = {},
               std::unique_ptr<RegistryClient> registry = nullptr);

  [[nodiscard]] Result<std::string> server_version() override;
  [[nodiscard]] Result<std::optional<ImageInfo>> inspect(const std::string& reference) override;
  [[nodiscard]] Result<std::map<std::string, std::string>> image_ids() override;
  // A HEAD of the manifest from sconectl itself (registry_client.hpp); when that cannot tell,
  // GET /distribution/<reference>/json: the engine asks the registry, with its own TLS settings
  // (certs.d) and the stored login, the way a pull would begin.
  [[nodiscard]] std::optional<std::string> registry_digest(const std::string& reference) override;
  void prepare_registry_digest() override;

 private:
  [[nodiscard]] Result<EngineResponse> get(const std::string& path,
                                           const EngineHeaders& headers = {});
  [[nodiscard]] Error failure(const std::string& action, const EngineResponse& response) const;

  std::unique_ptr<EngineTransport> m_transport;
  std::string m_engine;
  manifest::VariableLookup m_environment;
  std::unique_ptr<RegistryClient> m_registry;
};

// Sends `docker`'s lookups (version, inspect, image list) to the Engine API when the engine is on
// a local unix socket (engine_socket); otherwise leaves them with the CLI. The API answers the
// same questions without starting a process per lookup. A registry's digest is asked of the
// registry first (RegistryClient), then of the engine.
[[nodiscard]] Result<void> look_up_through_engine_api(DockerCli& docker,
                                                      const manifest::VariableLookup& environment);

}  // namespace sconectl::image
