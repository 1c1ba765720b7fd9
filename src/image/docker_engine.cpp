#include "sconectl/image/docker_engine.hpp"

#include "docker_messages.hpp"
#include "sconectl/util/fs.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <mutex>

#include <unistd.h>

namespace sconectl::image {

namespace {

constexpr long k_connect_timeout_ms = 5000;
constexpr long k_request_timeout_ms = 120000;
constexpr std::size_t k_max_answer_bytes = 64 * 1024 * 1024;  // an image list of a busy host

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > k_max_answer_bytes) {
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  body->append(data, size * count);
  return size * count;
}

class UnixSocketTransport final : public EngineTransport {
 public:
  UnixSocketTransport(CURL* curl, std::string socket_path, std::string engine)
      : m_curl(curl), m_socket(std::move(socket_path)), m_engine(std::move(engine))
  {
    if (m_engine.empty()) {
      m_engine = "unix://" + m_socket;
    }
  }
  UnixSocketTransport(const UnixSocketTransport&) = delete;
  UnixSocketTransport& operator=(const UnixSocketTransport&) = delete;
  ~UnixSocketTransport() override { curl_easy_cleanup(m_curl); }

  Result<EngineResponse> get(const std::string& path) override
  {
    std::string body;
    char message[CURL_ERROR_SIZE] = {};
    // The host name is not used for a unix socket; the engine only reads the path.
    const std::string url = "http://docker" + path;
    curl_easy_setopt(m_curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(m_curl, CURLOPT_UNIX_SOCKET_PATH, m_socket.c_str());
    curl_easy_setopt(m_curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(m_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        m_curl, CURLOPT_PROXY, "");  // never through an HTTP proxy from the environment
    curl_easy_setopt(m_curl, CURLOPT_CONNECTTIMEOUT_MS, k_connect_timeout_ms);
    curl_easy_setopt(m_curl, CURLOPT_TIMEOUT_MS, k_request_timeout_ms);
    curl_easy_setopt(m_curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(m_curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(m_curl, CURLOPT_ERRORBUFFER, message);
    const auto code = curl_easy_perform(m_curl);
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT) {
      // What the CLI would say: a socket this user may not open is refused, any other is down.
      const bool refused = ::access(m_socket.c_str(), F_OK) == 0
                           && ::access(m_socket.c_str(), R_OK | W_OK) != 0 && errno == EACCES;
      return tl::unexpected(refused ? detail::daemon_refused_user(m_engine)
                                    : detail::daemon_unreachable(m_engine));
    }
    if (code != CURLE_OK) {
      return fail(ErrorKind::process,
                  "the Docker Engine API at " + m_socket + " failed: "
                      + (message[0] != '\0' ? std::string(message) : curl_easy_strerror(code)));
    }
    long status = 0;
    curl_easy_getinfo(m_curl, CURLINFO_RESPONSE_CODE, &status);
    return EngineResponse{.status = status, .body = std::move(body)};
  }

 private:
  CURL* m_curl;
  std::string m_socket;
  std::string m_engine;
};

// The Docker CLI's config.json, where `currentContext` may send it to another engine.
std::string cli_config_file(const std::function<std::optional<std::string>(std::string_view)>& env)
{
  if (const auto dir = env("DOCKER_CONFIG"); dir && !dir->empty()) {
    return *dir + "/config.json";
  }
  const auto home = env("HOME");
  return home ? *home + "/.docker/config.json" : std::string();
}

// The engine's own message in an error answer ({"message": "..."}), else the status.
std::string engine_message(const EngineResponse& response)
{
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("message") && json.at("message").is_string()) {
    return json.at("message").get<std::string>();
  }
  return "HTTP " + std::to_string(response.status);
}

}  // namespace

Result<std::unique_ptr<EngineTransport>> unix_socket_transport(std::string socket_path,
                                                               std::string engine)
{
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    return fail(ErrorKind::internal, "libcurl could not be initialised");
  }
  return std::unique_ptr<EngineTransport>(
      std::make_unique<UnixSocketTransport>(curl, std::move(socket_path), std::move(engine)));
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
  if (const auto file = cli_config_file(environment); !file.empty()) {
    if (const auto text = fs::read_text_file(file)) {
      const auto config = nlohmann::json::parse(*text, nullptr, false);
      if (config.is_object() && config.contains("currentContext")
          && config.at("currentContext").is_string()
          && !config.at("currentContext").get<std::string>().empty()
          && config.at("currentContext").get<std::string>() != "default") {
        return std::nullopt;
      }
    }
  }
  return std::string("/var/run/docker.sock");
}

DockerEngine::DockerEngine(std::unique_ptr<EngineTransport> transport, std::string engine)
    : m_transport(std::move(transport)), m_engine(std::move(engine))
{
}

Result<EngineResponse> DockerEngine::get(const std::string& path)
{
  return m_transport->get(path);
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

}  // namespace sconectl::image
