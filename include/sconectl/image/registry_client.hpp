#pragma once

#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// sconectl's own question to a registry: which manifest does it hold under a tag? One HEAD of the
// manifest (GET /v2/<name>/manifests/<tag> without the body), with the login the Docker CLI
// stored (config.json) and the TLS trust the Docker engine uses (the system store and
// /etc/docker/certs.d), instead of asking the engine (GET /distribution/<reference>/json, which
// pings the registry and fetches the manifest and the image config, each on a connection of its
// own). It answers only when it is sure: a credential helper, an identity token, a registry that
// does not verify, any error or any answer it does not understand gives no answer, and the caller
// asks the engine or pushes.
namespace sconectl::image {

struct RegistryRequest {
  std::string method;                // "HEAD" or "GET"
  std::string url;                   // "https://host[:port]/v2/..." or a token realm
  std::vector<std::string> headers;  // "Name: value" lines
};

struct RegistryResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; the last of repeated ones
  std::string body;
};

// Sends one request to the host its URL names, over TLS that verifies the peer and its name. An
// error only when there is no HTTP answer (connection, TLS, timeout).
class RegistryTransport {
 public:
  virtual ~RegistryTransport() = default;
  [[nodiscard]] virtual Result<RegistryResponse> send(const RegistryRequest& request) = 0;
};

// The anchors a registry's certificate must chain to, as the Docker engine's: the system store,
// and the CA certificates it keeps for that registry (certs.d/<host[:port]>/*.crt, PEM).
struct RegistryTrust {
  std::string extra_ca_pem;
};

// libcurl (loaded on first use) with peer and host name verification always on; redirects are
// not followed. One connection kept for the requests of one lookup.
[[nodiscard]] Result<std::unique_ptr<RegistryTransport>> curl_registry_transport(
    const RegistryTrust& trust, std::chrono::milliseconds timeout = std::chrono::seconds(15));

using RegistryConnect =
    std::function<Result<std::unique_ptr<RegistryTransport>>(const RegistryTrust& trust)>;

// The login for a registry host, as the Docker CLI would use it: `auths.<host>.auth` (base64
// "user:password") in $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
struct RegistryLogin {
  std::string username;
  std::string password;
};
struct RegistryCredentials {
  // std::nullopt: no login stored for the host (asked anonymously, as Docker would).
  std::optional<RegistryLogin> login;
};
// std::nullopt when the CLI would do something sconectl does not (a credential helper or
// credsStore, an identity or registry token), or the config file cannot be read or understood.
[[nodiscard]] std::optional<RegistryCredentials> registry_credentials(
    const std::string& host, const manifest::VariableLookup& environment);

struct RegistryClientOptions {
  manifest::VariableLookup environment;  // DOCKER_CONFIG and HOME: where config.json is
  std::filesystem::path certs_dir = "/etc/docker/certs.d";
  RegistryConnect connect;  // empty: curl_registry_transport
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryClientOptions options);
  ~RegistryClient();
  RegistryClient(RegistryClient&&) noexcept = default;
  RegistryClient& operator=(RegistryClient&&) noexcept = default;
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // Starts loading libcurl on a thread of its own, so that a lookup soon after does not wait for
  // it (about 5 ms: it brings some thirty libraries). Nothing else happens before a lookup.
  void prepare();

  // The manifest digest ("sha256:...") the registry holds under `reference`'s tag, from the
  // Docker-Content-Digest header of a HEAD of the manifest (authenticated with basic auth, or a
  // bearer token from the realm the registry names). std::nullopt when it cannot tell: a
  // reference on Docker Hub or with a digest, a login it does not handle, client certificates
  // in certs.d, a registry without verified TLS, a 404, a refused login, a media type it did not
  // ask for, any error. Never fails and never logs a credential.
  [[nodiscard]] std::optional<std::string> manifest_digest(const std::string& reference);

 private:
  RegistryClientOptions m_options;
  std::future<void> m_prepared;
};

// The parameters of a `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`
// challenge (names in lower case); std::nullopt when it is not a Bearer challenge.
[[nodiscard]] std::optional<std::map<std::string, std::string>> bearer_challenge(
    std::string_view header);

}  // namespace sconectl::image
