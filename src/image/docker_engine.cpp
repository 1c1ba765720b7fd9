#include "sconectl/image/docker_engine.hpp"

#include "docker_config.hpp"
#include "docker_messages.hpp"
#include "sconectl/util/base64.hpp"
#include "sconectl/util/fs.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sconectl::image {

namespace {

// The engine's own message in an error answer ({"message": "..."}), else the status.
std::string engine_message(const EngineResponse& response)
{
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("message") && json.at("message").is_string()) {
    return json.at("message").get<std::string>();
  }
  return "HTTP " + std::to_string(response.status);
}

// The registry a reference names, as the Docker CLI reads it: the first path component when it
// looks like a host (a '.' or ':', or "localhost"), else Docker Hub.
std::string registry_of(const std::string& reference)
{
  const auto slash = reference.find('/');
  if (slash != std::string::npos) {
    const auto first = reference.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") {
      return first;
    }
  }
  return "docker.io";
}

}  // namespace

std::optional<std::string> registry_auth_header(
    const std::string& reference,
    const std::function<std::optional<std::string>(std::string_view)>& environment)
{
  const auto read = detail::read_docker_config(detail::docker_config_file(environment));
  if (!read) {
    return std::nullopt;
  }
  const auto& config = *read;
  const auto registry = registry_of(reference);
  // Docker Hub's logins are stored under its old index address.
  const auto key = registry == "docker.io" ? std::string("https://index.docker.io/v1/") : registry;
  const auto& helpers =
      config.contains("credHelpers") ? config.at("credHelpers") : nlohmann::json();
  if (helpers.is_object() && helpers.contains(key)) {
    return std::nullopt;
  }
  const auto& auths = config.contains("auths") ? config.at("auths") : nlohmann::json();
  if (!auths.is_object() || !auths.contains(key) || !auths.at(key).is_object()) {
    return std::nullopt;  // no stored login (or one in the credsStore helper)
  }
  const auto& entry = auths.at(key);
  nlohmann::json auth{{"serveraddress", key}};
  if (entry.contains("auth") && entry.at("auth").is_string()) {
    const auto decoded = base64::decode(entry.at("auth").get<std::string>());
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return std::nullopt;
    }
    auth["username"] = decoded->substr(0, colon);
    auth["password"] = decoded->substr(colon + 1);
  }
  // A token login stores "user:" in auth and the token beside it: the token is the credential.
  if (entry.contains("identitytoken") && entry.at("identitytoken").is_string()) {
    auth.erase("password");
    auth["identitytoken"] = entry.at("identitytoken");
  }
  if (!auth.contains("password") && !auth.contains("identitytoken")) {
    return std::nullopt;
  }
  // Credentials that are not UTF-8 cannot travel as JSON: the CLI's push handles those. The
  // engine decodes X-Registry-Auth as base64url with padding.
  return base64::encode(auth.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        base64::Alphabet::url);
}

std::optional<std::string> engine_socket(
    const std::function<std::optional<std::string>(std::string_view)>& environment)
{
  if (const auto context = environment("DOCKER_CONTEXT");
      context && !context->empty() && *context != "default") {
    return std::nullopt;
  }
  if (const auto host = environment("DOCKER_HOST"); host && !host->empty()) {
    constexpr std::string_view unix_scheme = "unix://";
    if (!host->starts_with(unix_scheme) || host->size() == unix_scheme.size()) {
      return std::nullopt;
    }
    return host->substr(unix_scheme.size());
  }
  // The CLI's config.json, where `currentContext` may send it to another engine.
  if (const auto config = detail::read_docker_config(detail::docker_config_file(environment));
      config && config->contains("currentContext") && config->at("currentContext").is_string()
      && !config->at("currentContext").get<std::string>().empty()
      && config->at("currentContext").get<std::string>() != "default") {
    return std::nullopt;
  }
  return std::string("/var/run/docker.sock");
}

DockerEngine::DockerEngine(std::unique_ptr<EngineTransport> transport,
                           std::string engine,
                           manifest::VariableLookup environment,
                           std::unique_ptr<RegistryClient> registry)
    : m_transport(std::move(transport)),
      m_engine(std::move(engine)),
      m_environment(std::move(environment)),
      m_registry(std::move(registry))
{
}

Result<EngineResponse> DockerEngine::get(const std::string& path, const EngineHeaders& headers)
{
  return m_transport->send(http1::get_request(path, headers));
}

Error DockerEngine::failure(const std::string& action, const EngineResponse& response) const
{
  return Error{.kind = ErrorKind::process,
               .message = action + " failed on the Docker engine (" + m_engine
                          + "): " + engine_message(response)};
}

Result<std::string> DockerEngine::server_version()
{
  auto response = get("/version");
  if (!response) {
    return forward_error(std::move(response.error()));
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200 || !json.is_object() || !json.contains("Version")
      || !json.at("Version").is_string()) {
    return tl::unexpected(failure("docker version", *response));
  }
  return json.at("Version").get<std::string>();
}

Result<std::optional<ImageInfo>> DockerEngine::inspect(const std::string& reference)
{
  // A reference is a name, not a path: one with '?', '#', '%' or spaces cannot name an image.
  if (reference.empty() || reference.find_first_of("?#% \t\r\n") != std::string::npos) {
    return std::optional<ImageInfo>{};
  }
  auto response = get("/images/" + reference + "/json");
  if (!response) {
    return forward_error(std::move(response.error()));
  }
  if (response->status == 404) {
    return std::optional<ImageInfo>{};
  }
  if (response->status != 200) {
    return tl::unexpected(failure("docker image inspect " + reference, *response));
  }
  auto info =
      image_info_from_json(nlohmann::json::parse(response->body, nullptr, false), reference);
  if (!info) {
    return forward_error(std::move(info.error()));
  }
  return std::optional<ImageInfo>(std::move(*info));
}

std::optional<std::string> DockerEngine::registry_digest(const std::string& reference)
{
  if (reference.empty() || reference.find_first_of("?#% \t\r\n") != std::string::npos) {
    return std::nullopt;
  }
  // The engine asks through its pull path, which for Docker Hub may be a configured mirror: a
  // stale mirror must not make a push look done.
  if (registry_of(reference) == "docker.io") {
    return std::nullopt;
  }
  // The registry's own answer, when sconectl can ask it as Docker would; a digest other than the
  // one recorded is an answer too (the tag moved: push). No answer: the engine asks.
  if (m_registry) {
    if (auto digest = m_registry->manifest_digest(reference)) {
      return digest;
    }
  }
  EngineHeaders headers;
  if (m_environment) {
    if (auto auth = registry_auth_header(reference, m_environment)) {
      headers.emplace("X-Registry-Auth", std::move(*auth));
    }
  }
  auto response = get("/distribution/" + reference + "/json", headers);
  if (!response || response->status != 200) {
    spdlog::debug("the registry's digest of {} is unknown: {}",
                  reference,
                  response ? engine_message(*response) : response.error().message);
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  const auto& descriptor =
      json.is_object() && json.contains("Descriptor") ? json.at("Descriptor") : nlohmann::json();
  if (!descriptor.is_object() || !descriptor.contains("digest")
      || !descriptor.at("digest").is_string()) {
    return std::nullopt;
  }
  return descriptor.at("digest").get<std::string>();
}

void DockerEngine::prepare_registry_digest()
{
  if (m_registry) {
    m_registry->prepare();
  }
}

Result<std::map<std::string, std::string>> DockerEngine::image_ids()
{
  auto response = get("/images/json");
  if (!response) {
    return forward_error(std::move(response.error()));
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200 || !json.is_array()) {
    return tl::unexpected(failure("docker image ls", *response));
  }
  std::map<std::string, std::string> ids;
  for (const auto& image : json) {
    if (!image.is_object() || !image.contains("Id") || !image.at("Id").is_string()
        || !image.contains("RepoTags") || !image.at("RepoTags").is_array()) {
      continue;  // untagged images have RepoTags null
    }
    for (const auto& tag : image.at("RepoTags")) {
      if (tag.is_string() && tag.get<std::string>().find("<none>") == std::string::npos) {
        ids[tag.get<std::string>()] = image.at("Id").get<std::string>();
      }
    }
  }
  return ids;
}

Result<void> look_up_through_engine_api(DockerCli& docker,
                                        const manifest::VariableLookup& environment)
{
  const auto socket = engine_socket(environment);
  if (!socket) {
    spdlog::debug("Docker lookups through the CLI: DOCKER_HOST or a context points elsewhere");
    return {};
  }
  // Named as the CLI's messages name it, so a failure reads the same either way.
  const auto host = environment("DOCKER_HOST");
  const auto engine =
      host && !host->empty() ? "DOCKER_HOST=" + *host : std::string("the default socket");
  auto transport = unix_socket_transport(*socket, engine);
  if (!transport) {
    return forward_error(std::move(transport.error()));
  }
  docker.look_up_through(std::make_unique<DockerEngine>(
      std::move(*transport),
      engine,
      environment,
      std::make_unique<RegistryClient>(RegistryClientOptions{.environment = environment})));
  spdlog::debug("Docker lookups through the Engine API on {}", *socket);
  return {};
}

}  // namespace sconectl::image
