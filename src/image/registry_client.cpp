#include "sconectl/image/registry_client.hpp"

#include "docker_config.hpp"
#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/util/base64.hpp"
#include "sconectl/util/fs.hpp"
#include "sconectl/util/libcurl.hpp"
#include "sconectl/util/strings.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <system_error>

namespace sconectl::image {

namespace {

namespace stdfs = std::filesystem;
using util::Libcurl;
using util::load_libcurl;

// What a manifest may be, as `docker push` stores it (Docker schema 2, OCI) or as a multi-platform
// build does (a list or an index). Asked for all four, the registry answers the stored one as it
// is, so its digest is the one the push reported.
constexpr std::array<std::string_view, 4> k_manifest_types = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
};

// A token answer is small; anything larger is not one.
constexpr std::size_t k_max_body_bytes = 1024 * 1024;

// Without the optional whitespace around a field's value, and the CRLF that ends the header lines
// libcurl hands over.
std::string_view trim(std::string_view text)
{
  return strings::trim(text, " \t\r\n");
}

// Percent-encodes everything but RFC 3986's unreserved characters, for a query value.
std::string url_encode(std::string_view text)
{
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4U];
      out += hex[c & 0xFU];
    }
  }
  return out;
}

// The host a config.json "auths" key names, as the Docker CLI reads it: without a scheme and a
// path ("https://registry.example.com/v1/" -> "registry.example.com").
std::string auths_key_host(std::string_view key)
{
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) {
      key.remove_prefix(scheme.size());
      break;
    }
  }
  return std::string(key.substr(0, key.find('/')));
}

bool is_docker_hub(const std::string& registry)
{
  return registry.empty() || registry == "docker.io" || registry == "index.docker.io"
         || registry == "registry-1.docker.io";
}

bool is_sha256_digest(std::string_view digest)
{
  constexpr std::string_view prefix = "sha256:";
  return digest.size() == prefix.size() + 64 && digest.starts_with(prefix)
         && std::all_of(digest.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
                        digest.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The CA certificates the engine trusts for `host` beside the system store
// (certs.d/<host>/*.crt); std::nullopt when the directory holds what sconectl does not present
// (a client certificate: *.cert and *.key) or cannot be read.
std::optional<RegistryTrust> registry_trust(const stdfs::path& certs_dir, const std::string& host)
{
  RegistryTrust trust;
  const auto dir = certs_dir / host;
  std::error_code error;
  if (!stdfs::is_directory(dir, error)) {
    return trust;  // none: the system store alone, as for the engine
  }
  std::vector<stdfs::path> files;
  for (stdfs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    files.push_back(it->path());
  }
  if (error) {
    return std::nullopt;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const auto extension = file.extension().string();
    if (extension == ".cert" || extension == ".key") {
      return std::nullopt;
    }
    if (extension == ".crt") {
      auto pem = fs::read_text_file(file);
      if (!pem) {
        return std::nullopt;
      }
      trust.extra_ca_pem += *pem;
      if (!trust.extra_ca_pem.empty() && trust.extra_ca_pem.back() != '\n') {
        trust.extra_ca_pem += '\n';
      }
    }
  }
  return trust;
}

std::string accept_header()
{
  std::string header = "Accept: ";
  for (const auto type : k_manifest_types) {
    header += std::string(type) + (type == k_manifest_types.back() ? "" : ", ");
  }
  return header;
}

std::string header_of(const RegistryResponse& response, const std::string& name)
{
  const auto found = response.headers.find(name);
  return found == response.headers.end() ? std::string() : found->second;
}

}  // namespace

std::optional<RegistryCredentials> registry_credentials(const std::string& host,
                                                        const manifest::VariableLookup& environment)
{
  const auto file = detail::docker_config_file(environment);
  if (file.empty()) {
    return std::nullopt;
  }
  std::error_code error;
  if (!stdfs::exists(file, error)) {
    return error ? std::nullopt : std::optional(RegistryCredentials{});  // no login anywhere
  }
  const auto read = detail::read_docker_config(file);
  if (!read) {
    return std::nullopt;
  }
  const auto& config = *read;
  // A credentials store holds every login; a helper named for the host holds its login.
  if (config.contains("credsStore")
      && !(config.at("credsStore").is_string()
           && config.at("credsStore").get<std::string>().empty())) {
    return std::nullopt;
  }
  if (config.contains("credHelpers")) {
    const auto& helpers = config.at("credHelpers");
    if (!helpers.is_object()) {
      return std::nullopt;
    }
    for (const auto& [key, helper] : helpers.items()) {
      if (auths_key_host(key) == host) {
        return std::nullopt;
      }
    }
  }
  if (!config.contains("auths")) {
    return RegistryCredentials{};
  }
  const auto& auths = config.at("auths");
  if (!auths.is_object()) {
    return std::nullopt;
  }
  const nlohmann::json* entry = nullptr;
  if (auths.contains(host)) {
    entry = &auths.at(host);
  } else {
    for (const auto& [key, value] : auths.items()) {
      if (auths_key_host(key) == host) {
        entry = &value;
        break;
      }
    }
  }
  if (entry == nullptr) {
    return RegistryCredentials{};
  }
  if (!entry->is_object()) {
    return std::nullopt;
  }
  for (const auto& [key, value] : entry->items()) {
    // "email" is a leftover of old logins, ignored by the CLI too; anything else (identitytoken,
    // registrytoken, username/password in clear) is a login sconectl does not use.
    if (key != "auth" && key != "email") {
      return std::nullopt;
    }
  }
  if (!entry->contains("auth") || !entry->at("auth").is_string()) {
    return std::nullopt;
  }
  const auto decoded = base64::decode(entry->at("auth").get<std::string>());
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos || colon == 0 || colon + 1 == decoded->size()) {
    return std::nullopt;
  }
  return RegistryCredentials{.login = RegistryLogin{.username = decoded->substr(0, colon),
                                                    .password = decoded->substr(colon + 1)}};
}

std::optional<std::map<std::string, std::string>> bearer_challenge(std::string_view header)
{
  header = trim(header);
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size()
      || strings::ascii_lower(header.substr(0, scheme.size())) != scheme) {
    return std::nullopt;
  }
  header.remove_prefix(scheme.size());
  std::map<std::string, std::string> parameters;
  std::size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ',')) {
      ++at;
    }
    if (at == header.size()) {
      break;
    }
    const auto equals = header.find('=', at);
    if (equals == std::string_view::npos) {
      return std::nullopt;
    }
    const auto name = strings::ascii_lower(trim(header.substr(at, equals - at)));
    at = equals + 1;
    std::string value;
    if (at < header.size() && header[at] == '"') {
      ++at;
      bool closed = false;
      while (at < header.size()) {
        const char c = header[at++];
        if (c == '\\' && at < header.size()) {
          value += header[at++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) {
        return std::nullopt;
      }
    } else {
      const auto end = std::min(header.find(',', at), header.size());
      value = std::string(trim(header.substr(at, end - at)));
      at = end;
    }
    if (name.empty()) {
      return std::nullopt;
    }
    parameters[name] = std::move(value);
  }
  return parameters;
}

RegistryClient::RegistryClient(RegistryClientOptions options) : m_options(std::move(options)) {}

RegistryClient::~RegistryClient()
{
  if (m_prepared.valid()) {
    m_prepared.wait();
  }
}

void RegistryClient::prepare()
{
  if (!m_options.connect && !m_prepared.valid()) {
    m_prepared = std::async(std::launch::async, [] { static_cast<void>(load_libcurl()); });
  }
}

namespace {

// A bearer token for pulling `path`, from the realm a 401's WWW-Authenticate `challenge` names,
// asked with the basic login when there is one; else why there is none.
tl::expected<std::string, std::string> bearer_token(RegistryTransport& transport,
                                                    const std::string& challenge_header,
                                                    const std::string& path,
                                                    const std::optional<std::string>& basic)
{
  const auto challenge = bearer_challenge(challenge_header);
  if (!challenge) {
    return tl::unexpected(std::string("no Bearer challenge"));
  }
  const auto realm = challenge->find("realm");
  // The login goes only over verified TLS.
  if (realm == challenge->end() || !realm->second.starts_with("https://")) {
    return tl::unexpected(std::string("a token realm that is not https"));
  }
  std::string token_url = realm->second;
  token_url += realm->second.find('?') == std::string::npos ? '?' : '&';
  if (const auto service = challenge->find("service"); service != challenge->end()) {
    token_url += "service=" + url_encode(service->second) + "&";
  }
  token_url += "scope=" + url_encode("repository:" + path + ":pull");
  RegistryRequest get_token{.method = "GET", .url = token_url, .headers = {}};
  if (basic) {
    get_token.headers.push_back(*basic);
  }
  const auto answered = transport.send(get_token);
  if (!answered || answered->status != 200) {
    return tl::unexpected(
        "the token realm " + realm->second + " answered "
        + (answered ? "HTTP " + std::to_string(answered->status) : answered.error().message));
  }
  const auto json = nlohmann::json::parse(answered->body, nullptr, false);
  std::string token;
  for (const char* name : {"token", "access_token"}) {
    if (json.is_object() && json.contains(name) && json.at(name).is_string()
        && !json.at(name).get<std::string>().empty()) {
      token = json.at(name).get<std::string>();
      break;
    }
  }
  // A token goes into a header line: one with a line break or a control byte is not one.
  if (!token.empty()
      && std::none_of(token.begin(), token.end(), [](unsigned char c) { return c < 0x20; })) {
    return token;
  }
  return tl::unexpected("the token realm " + realm->second + " answered no token");
}

}  // namespace

std::optional<std::string> RegistryClient::manifest_digest(const std::string& reference)
{
  const auto unknown = [&reference](const std::string& why) -> std::optional<std::string> {
    spdlog::info(
        "sconectl cannot tell by itself what the registry holds for {}: {}", reference, why);
    return std::nullopt;
  };
  const auto parsed = manifest::parse_image_reference(reference);
  if (!parsed) {
    return unknown("not an image reference");
  }
  // Docker Hub's logins, mirrors and token service are the engine's business.
  if (is_docker_hub(parsed->registry)) {
    return unknown("an image on Docker Hub");
  }
  if (parsed->digest) {
    return unknown("the reference names a digest");
  }
  const auto& host = parsed->registry;
  const auto credentials = registry_credentials(host, m_options.environment);
  if (!credentials) {
    return unknown("the login for " + host
                   + " is kept in a way sconectl does not read (a credential helper, a token, "
                     "or a config.json it does not understand)");
  }
  const auto trust = registry_trust(m_options.certs_dir, host);
  if (!trust) {
    return unknown((m_options.certs_dir / host).string()
                   + " holds a client certificate or cannot be read");
  }
  if (m_prepared.valid()) {
    m_prepared.wait();
  }
  auto transport = m_options.connect ? m_options.connect(*trust) : curl_registry_transport(*trust);
  if (!transport || !*transport) {
    return unknown(transport ? std::string("no transport") : transport.error().message);
  }
  const auto url =
      "https://" + host + "/v2/" + parsed->path + "/manifests/" + parsed->tag_or_latest();
  const auto basic =
      credentials->login ? std::optional(
          "Authorization: Basic "
          + base64::encode(credentials->login->username + ":" + credentials->login->password))
                         : std::nullopt;
  RegistryRequest head{.method = "HEAD", .url = url, .headers = {accept_header()}};
  if (basic) {
    head.headers.push_back(*basic);
  }
  const auto started = std::chrono::steady_clock::now();
  auto response = (*transport)->send(head);
  std::string how = basic ? "basic auth" : "no login";
  if (response && response->status == 401) {
    auto token =
        bearer_token(**transport, header_of(*response, "www-authenticate"), parsed->path, basic);
    if (!token) {
      return unknown("HEAD " + url + " answered HTTP 401 with " + how + ": " + token.error());
    }
    how = basic ? "a token for the stored login" : "an anonymous token";
    head.headers = {accept_header(), "Authorization: Bearer " + *token};
    response = (*transport)->send(head);
  }
  if (!response) {
    return unknown("HEAD " + url + ": " + response.error().message);
  }
  if (response->status != 200) {
    return unknown("HEAD " + url + " answered HTTP " + std::to_string(response->status) + " with "
                   + how);
  }
  const auto media_type =
      strings::ascii_lower(trim(header_of(*response, "content-type")
                                    .substr(0, header_of(*response, "content-type").find(';'))));
  if (std::find(k_manifest_types.begin(), k_manifest_types.end(), media_type)
      == k_manifest_types.end()) {
    return unknown("HEAD " + url + " answered a manifest of type '" + media_type
                   + "', not one it asked for");
  }
  const auto digest = std::string(trim(header_of(*response, "docker-content-digest")));
  if (!is_sha256_digest(digest)) {
    return unknown("HEAD " + url + " answered no sha256 Docker-Content-Digest");
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("asked the registry: HEAD {} with {} answered {} ({}, {} ms)",
               url,
               how,
               digest,
               media_type,
               elapsed.count());
  return digest;
}

// --- libcurl -----------------------------------------------------------------------------------

namespace {

struct Received {
  RegistryResponse* response;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* target)
{
  auto& received = *static_cast<Received*>(target);
  if (received.response->body.size() + size * count > k_max_body_bytes) {
    received.too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  received.response->body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* target)
{
  auto& response = *static_cast<Received*>(target)->response;
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response.headers.clear();  // a new answer (after "100 Continue")
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    response.headers[strings::ascii_lower(trim(line.substr(0, colon)))] =
        std::string(trim(line.substr(colon + 1)));
  }
  return size * count;
}

class CurlRegistryTransport final : public RegistryTransport {
 public:
  CurlRegistryTransport(const Libcurl& curl, CURL* handle) : m_curl(curl), m_handle(handle) {}
  ~CurlRegistryTransport() override { m_curl.easy_cleanup(m_handle); }
  CurlRegistryTransport(const CurlRegistryTransport&) = delete;
  CurlRegistryTransport& operator=(const CurlRegistryTransport&) = delete;

  [[nodiscard]] Result<RegistryResponse> send(const RegistryRequest& request) override
  {
    if (!request.url.starts_with("https://")) {
      return fail(ErrorKind::tls, request.url + ": only https is asked");
    }
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, m_curl.slist_free_all);
    for (const auto& line : request.headers) {
      auto* appended = m_curl.slist_append(headers.get(), line.c_str());
      if (appended == nullptr) {
        return fail(ErrorKind::internal, "libcurl could not allocate a request header");
      }
      static_cast<void>(headers.release());
      headers.reset(appended);
    }
    RegistryResponse response;
    Received received{.response = &response};
    char error_text[CURL_ERROR_SIZE] = {};
    const bool head = request.method == "HEAD";
    const bool configured =
        m_curl.easy_setopt(m_handle, CURLOPT_URL, request.url.c_str()) == CURLE_OK
        && (head ? m_curl.easy_setopt(m_handle, CURLOPT_NOBODY, 1L)
                 : m_curl.easy_setopt(m_handle, CURLOPT_HTTPGET, 1L))
               == CURLE_OK
        && m_curl.easy_setopt(m_handle, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK
        && m_curl.easy_setopt(m_handle, CURLOPT_WRITEDATA, &received) == CURLE_OK
        && m_curl.easy_setopt(m_handle, CURLOPT_HEADERDATA, &received) == CURLE_OK
        && m_curl.easy_setopt(m_handle, CURLOPT_ERRORBUFFER, error_text) == CURLE_OK;
    const CURLcode code = configured ? m_curl.easy_perform(m_handle) : CURLE_OK;
    // The handle outlives this call: it must not keep pointers to this call's locals.
    static_cast<void>(m_curl.easy_setopt(m_handle, CURLOPT_HTTPHEADER, nullptr));
    static_cast<void>(m_curl.easy_setopt(m_handle, CURLOPT_ERRORBUFFER, nullptr));
    static_cast<void>(m_curl.easy_setopt(m_handle, CURLOPT_WRITEDATA, nullptr));
    static_cast<void>(m_curl.easy_setopt(m_handle, CURLOPT_HEADERDATA, nullptr));
    if (!configured) {
      return fail(ErrorKind::internal, "libcurl refused a request option");
    }
    if (received.too_large) {
      return fail(ErrorKind::server, request.url + ": the answer is too large");
    }
    if (code != CURLE_OK) {
      return fail(code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR
                      ? ErrorKind::tls
                      : ErrorKind::network,
                  (error_text[0] != '\0' ? std::string(error_text)
                                         : std::string(m_curl.easy_strerror(code))));
    }
    if (m_curl.easy_getinfo(m_handle, CURLINFO_RESPONSE_CODE, &response.status) != CURLE_OK) {
      return fail(ErrorKind::network, request.url + ": no HTTP status in the answer");
    }
    return response;
  }

 private:
  const Libcurl& m_curl;
  CURL* m_handle;
};

}  // namespace

Result<std::unique_ptr<RegistryTransport>> curl_registry_transport(
    const RegistryTrust& trust, std::chrono::milliseconds timeout)
{
  auto loaded = load_libcurl();
  if (!loaded) {
    return forward_error(std::move(loaded.error()));
  }
  const Libcurl& curl = **loaded;
  CURL* handle = curl.easy_init();
  if (handle == nullptr) {
    return fail(ErrorKind::internal, "cannot initialise libcurl");
  }
  auto transport = std::make_unique<CurlRegistryTransport>(curl, handle);
  const auto set = [&curl, handle](CURLoption option, auto value) {
    return curl.easy_setopt(handle, option, value) == CURLE_OK;
  };
  // Verification is never off: an option that does not take means no request at all.
  bool configured = set(CURLOPT_SSL_VERIFYPEER, 1L) && set(CURLOPT_SSL_VERIFYHOST, 2L)
                    && set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2))
                    && set(CURLOPT_FOLLOWLOCATION, 0L) && set(CURLOPT_NOSIGNAL, 1L)
                    && set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()))
                    && set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()))
                    && set(CURLOPT_WRITEFUNCTION, on_body) && set(CURLOPT_HEADERFUNCTION, on_header)
#if LIBCURL_VERSION_NUM >= 0x075500
                    && set(CURLOPT_PROTOCOLS_STR, "https");
#else
                    && set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTPS));
#endif
  if (configured && !trust.extra_ca_pem.empty()) {
    // The registry's CA beside the system store: libcurl reads the store's directory by hash
    // (the bundle file gives way to the blob).
    curl_blob blob{
        const_cast<char*>(trust.extra_ca_pem.data()), trust.extra_ca_pem.size(), CURL_BLOB_COPY};
    configured = set(CURLOPT_CAINFO_BLOB, &blob);
    std::error_code error;
    if (configured && stdfs::is_directory("/etc/ssl/certs", error)) {
      configured = set(CURLOPT_CAPATH, "/etc/ssl/certs");
    }
  }
  if (!configured) {
    return fail(ErrorKind::tls, "libcurl refused an option the registry check needs");
  }
  return std::unique_ptr<RegistryTransport>(std::move(transport));
}

}  // namespace sconectl::image
