#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas/transport.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <mutex>

namespace sconectl::cas {

namespace {

void global_init()
{
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* target)
{
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// curl's pin format: "sha256//" and the base64 of the SPKI's SHA-256, which a key hash carries.
std::optional<std::string> curl_pin(const std::string& cas_key)
{
  const auto digest = parse_key_hash(cas_key);
  if (!digest) {
    return std::nullopt;
  }
  unsigned char encoded[64] = {};
  const int length = EVP_EncodeBlock(encoded, digest->data(), static_cast<int>(digest->size()));
  return "sha256//"
         + std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
}

// A handshake cut short by the peer going away (reset, closed, refused) is a network failure
// worth retrying, although curl reports it as CURLE_SSL_CONNECT_ERROR; a handshake the peer
// completes and refuses stays a TLS failure.
ErrorKind failure_kind(CURL* curl, CURLcode code)
{
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      const bool connection_lost = os_errno == ECONNRESET || os_errno == EPIPE
                                   || os_errno == ECONNREFUSED || os_errno == ECONNABORTED;
      return connection_lost ? ErrorKind::network : ErrorKind::tls;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
      return ErrorKind::tls;
    default:
      return ErrorKind::network;
  }
}

std::string base_url(const CasAddress& address)
{
  return "https://" + address.authority();
}

void set_timeouts(CURL* curl, const Timeouts& timeouts)
{
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts.connect.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts.request.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
}

void set_blob(CURL* curl, CURLoption option, const std::string& pem)
{
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

CurlTransport::CurlTransport(CurlTransportOptions options) : m_options(std::move(options)) {}

CurlTransport::~CurlTransport()
{
  if (m_handle != nullptr) {
    curl_easy_cleanup(static_cast<CURL*>(m_handle));
  }
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlTransportOptions options)
{
  global_init();
  std::unique_ptr<CurlTransport> transport(new CurlTransport(std::move(options)));
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    return fail(ErrorKind::internal, "cannot initialise libcurl");
  }
  transport->m_handle = curl;
  const auto& trust = transport->m_options.trust;
  switch (trust.mode) {
    case TrustMode::pinned_key: {
      const auto pin = curl_pin(trust.cas_key);
      if (!pin) {
        return fail(
            ErrorKind::usage,
            "CAS key '" + trust.cas_key.substr(0, 60) + "': " + key_hash_problem(trust.cas_key));
      }
      // The identity of the CAS is its key, not a name or a CA: the pin alone decides, and curl
      // checks it before any request byte is sent.
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY, pin->c_str());
      break;
    }
    case TrustMode::ca:
      set_blob(curl, CURLOPT_CAINFO_BLOB, trust.ca_pem);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
      break;
    case TrustMode::any:
      // At error level, so that -q does not hide it: an unverified peer must never go unnoticed.
      spdlog::error(
          "INSECURE: the CAS at {} is not verified (--only-for-testing-trust-any); "
          "anyone on the network path can impersonate it",
          transport->m_options.address.authority());
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
      break;
  }
  if (const auto& identity = transport->m_options.client_identity) {
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    set_blob(curl, CURLOPT_SSLCERT_BLOB, identity->certificate_pem);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    set_blob(curl, CURLOPT_SSLKEY_BLOB, identity->private_key_pem);
  }
  set_timeouts(curl, transport->m_options.timeouts);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!transport->m_options.reuse_connection) {
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  }
  return transport;
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request)
{
  auto* curl = static_cast<CURL*>(m_handle);
  const auto url = base_url(m_options.address) + request.target;
  HttpResponse response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  // curl would otherwise wait a second for "100 Continue" before large bodies.
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "POST") {
    const auto content_type = "Content-Type: " + request.content_type;
    headers = curl_slist_append(headers, content_type.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(
        curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  m_connections += connects;
  if (code != CURLE_OK) {
    const std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
    const auto where = "CAS at " + m_options.address.authority();
    if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
      // Name both keys, so the user can tell a wrong pin from a different CAS.
      std::string presented = "a different key";
      if (auto chain = fetch_presented_chain(m_options.address, m_options.timeouts)) {
        if (auto hash = key_hash_of_certificate(*chain)) {
          presented = "the key " + *hash;
        }
      }
      return fail(ErrorKind::tls,
                  where + " presents " + presented + ", not the pinned " + m_options.trust.cas_key
                      + "; refusing to talk to it");
    }
    spdlog::debug("{}: curl error {}", where, static_cast<int>(code));
    return fail(failure_kind(curl, code), where + ": " + detail);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<std::string> fetch_presented_chain(const CasAddress& address, const Timeouts& timeouts)
{
  global_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    return fail(ErrorKind::internal, "cannot initialise libcurl");
  }
  const auto url = base_url(address) + std::string(k_version_path);
  std::string ignored;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &ignored);
  set_timeouts(curl.get(), timeouts);
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_text);
  if (const CURLcode code = curl_easy_perform(curl.get()); code != CURLE_OK) {
    return fail(failure_kind(curl.get(), code),
                "CAS at " + address.authority() + ": "
                    + (error_text[0] != '\0' ? error_text : curl_easy_strerror(code)));
  }
  curl_certinfo* info = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CERTINFO, &info);
  std::string chain;
  for (int i = 0; info != nullptr && i < info->num_of_certs; ++i) {
    for (curl_slist* field = info->certinfo[i]; field != nullptr; field = field->next) {
      const std::string_view line(field->data);
      if (line.starts_with("Cert:")) {
        chain += std::string(line.substr(5));
        if (!chain.empty() && chain.back() != '\n') {
          chain += '\n';
        }
      }
    }
  }
  if (chain.empty()) {
    return fail(ErrorKind::tls, "CAS at " + address.authority() + " presented no certificate");
  }
  return chain;
}

}  // namespace sconectl::cas
