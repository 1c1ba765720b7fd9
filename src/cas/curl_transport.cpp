#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas/transport.hpp"
#include "sconectl/util/base64.hpp"
#include "sconectl/util/libcurl.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

namespace sconectl::cas {

namespace {

using util::libcurl;
using util::load_libcurl;

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
  return "sha256//"
         + base64::encode(
             std::string_view(reinterpret_cast<const char*>(digest->data()), digest->size()));
}

// A handshake cut short by the peer going away (reset, closed, refused) is a network failure
// worth retrying, although curl reports it as CURLE_SSL_CONNECT_ERROR; a handshake the peer
// completes and refuses stays a TLS failure.
ErrorKind failure_kind(CURL* curl, CURLcode code)
{
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR: {
      long os_errno = 0;
      libcurl().easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
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

using SlistPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

// Sets options on one handle and keeps the first one libcurl refuses. Nothing is sent after a
// refusal: an option that did not take (a pin, a CA, a client certificate) must never leave a
// connection less verified than asked. Later calls after a refusal do nothing.
class Options {
 public:
  explicit Options(CURL* curl) : m_curl(curl) {}

  template <class Value>
  Options& set(CURLoption option, Value value)
  {
    if (m_refused.empty()) {
      if (const CURLcode code = libcurl().easy_setopt(m_curl, option, value); code != CURLE_OK) {
        const auto* known = libcurl().easy_option_by_id(option);
        m_refused = std::string("libcurl refused option ")
                    + (known != nullptr ? known->name : std::to_string(option)) + ": "
                    + libcurl().easy_strerror(code);
      }
    }
    return *this;
  }

  Options& blob(CURLoption option, const std::string& pem)
  {
    curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    return set(option, &blob);
  }

  Options& timeouts(const Timeouts& timeouts)
  {
    return set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts.connect.count()))
        .set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts.request.count()))
        .set(CURLOPT_NOSIGNAL, 1L)
        .set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  }

  // A refusal is a TLS-class failure: the connection cannot be made as it must be, and retrying
  // would not change that.
  [[nodiscard]] Result<void> result(const CasAddress& address) const
  {
    if (!m_refused.empty()) {
      return fail(ErrorKind::tls, "CAS at " + address.authority() + ": " + m_refused);
    }
    return {};
  }

 private:
  CURL* m_curl;
  std::string m_refused;
};

Result<SlistPtr> request_headers(const HttpRequest& request)
{
  SlistPtr headers(nullptr, libcurl().slist_free_all);
  std::vector<std::string> lines{"Accept: application/json",
                                 // curl would otherwise wait a second for "100 Continue" before
                                 // large bodies.
                                 "Expect:"};
  if (request.method == "POST") {
    lines.push_back("Content-Type: " + request.content_type);
  }
  for (const auto& line : lines) {
    auto* appended = libcurl().slist_append(headers.get(), line.c_str());
    if (appended == nullptr) {
      return fail(ErrorKind::internal, "libcurl could not allocate a request header");
    }
    headers.release();
    headers.reset(appended);
  }
  return headers;
}

}  // namespace

void CurlTransport::EasyHandleDeleter::operator()(void* handle) const
{
  libcurl().easy_cleanup(static_cast<CURL*>(handle));
}

CurlTransport::CurlTransport(CurlTransportOptions options) : m_options(std::move(options)) {}

CurlTransport::~CurlTransport() = default;

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlTransportOptions options)
{
  TRY(load_libcurl());
  std::unique_ptr<CurlTransport> transport(new CurlTransport(std::move(options)));
  transport->m_handle.reset(libcurl().easy_init());
  if (!transport->m_handle) {
    return fail(ErrorKind::internal, "cannot initialise libcurl");
  }
  Options set(static_cast<CURL*>(transport->m_handle.get()));
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
      set.set(CURLOPT_SSL_VERIFYPEER, 0L)
          .set(CURLOPT_SSL_VERIFYHOST, 0L)
          .set(CURLOPT_PINNEDPUBLICKEY, pin->c_str());
      break;
    }
    case TrustMode::ca:
      set.blob(CURLOPT_CAINFO_BLOB, trust.ca_pem)
          .set(CURLOPT_SSL_VERIFYPEER, 1L)
          .set(CURLOPT_SSL_VERIFYHOST, 2L);
      break;
    case TrustMode::any:
      // At error level, so that -q does not hide it: an unverified peer must never go unnoticed.
      spdlog::error(
          "INSECURE: the CAS at {} is not verified (--only-for-testing-trust-any); "
          "anyone on the network path can impersonate it",
          transport->m_options.address.authority());
      set.set(CURLOPT_SSL_VERIFYPEER, 0L).set(CURLOPT_SSL_VERIFYHOST, 0L);
      break;
  }
  if (const auto& identity = transport->m_options.client_identity) {
    set.set(CURLOPT_SSLCERTTYPE, "PEM")
        .blob(CURLOPT_SSLCERT_BLOB, identity->certificate_pem)
        .set(CURLOPT_SSLKEYTYPE, "PEM")
        .blob(CURLOPT_SSLKEY_BLOB, identity->private_key_pem);
  }
  set.timeouts(transport->m_options.timeouts)
      .set(CURLOPT_WRITEFUNCTION, append_body)
      .set(CURLOPT_TCP_KEEPALIVE, 1L);
  if (!transport->m_options.reuse_connection) {
    set.set(CURLOPT_FRESH_CONNECT, 1L).set(CURLOPT_FORBID_REUSE, 1L);
  }
  TRY(set.result(transport->m_options.address));
  return transport;
}

Result<HttpResponse> CurlTransport::send(const HttpRequest& request)
{
  auto* curl = static_cast<CURL*>(m_handle.get());
  const auto url = base_url(m_options.address) + request.target;
  HttpResponse response;
  auto headers = request_headers(request);
  if (!headers) {
    return forward_error(std::move(headers.error()));
  }
  char error_text[CURL_ERROR_SIZE] = {};
  Options set(curl);
  set.set(CURLOPT_URL, url.c_str()).set(CURLOPT_WRITEDATA, &response.body);
  if (request.method == "POST") {
    set.set(CURLOPT_POST, 1L)
        .set(CURLOPT_POSTFIELDS, request.body.data())
        .set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    set.set(CURLOPT_HTTPGET, 1L);
  }
  set.set(CURLOPT_HTTPHEADER, headers->get()).set(CURLOPT_ERRORBUFFER, error_text);
  const auto configured = set.result(m_options.address);
  const CURLcode code = configured ? libcurl().easy_perform(curl) : CURLE_OK;
  // The handle outlives this call: it must not keep pointers to the headers and the buffer.
  Options(curl).set(CURLOPT_HTTPHEADER, nullptr).set(CURLOPT_ERRORBUFFER, nullptr);
  if (!configured) {
    return forward_error(Error(configured.error()));
  }
  long connects = 0;
  if (libcurl().easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
    m_connections += connects;
  }
  if (code != CURLE_OK) {
    const std::string detail = error_text[0] != '\0' ? error_text : libcurl().easy_strerror(code);
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
  if (libcurl().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status) != CURLE_OK) {
    return fail(ErrorKind::network,
                "CAS at " + m_options.address.authority() + ": no HTTP status in the answer");
  }
  return response;
}

Result<std::string> fetch_presented_chain(const CasAddress& address, const Timeouts& timeouts)
{
  TRY(load_libcurl());
  std::unique_ptr<CURL, void (*)(CURL*)> curl(libcurl().easy_init(), libcurl().easy_cleanup);
  if (!curl) {
    return fail(ErrorKind::internal, "cannot initialise libcurl");
  }
  const auto url = base_url(address) + std::string(k_version_path);
  std::string ignored;
  char error_text[CURL_ERROR_SIZE] = {};
  // Reading the chain is the one place that verifies nothing: the chain is only shown and hashed,
  // never trusted.
  Options set(curl.get());
  set.set(CURLOPT_URL, url.c_str())
      .set(CURLOPT_SSL_VERIFYPEER, 0L)
      .set(CURLOPT_SSL_VERIFYHOST, 0L)
      .set(CURLOPT_CERTINFO, 1L)
      .set(CURLOPT_WRITEFUNCTION, append_body)
      .set(CURLOPT_WRITEDATA, &ignored)
      .timeouts(timeouts)
      .set(CURLOPT_ERRORBUFFER, error_text);
  TRY(set.result(address));
  if (const CURLcode code = libcurl().easy_perform(curl.get()); code != CURLE_OK) {
    return fail(failure_kind(curl.get(), code),
                "CAS at " + address.authority() + ": "
                    + (error_text[0] != '\0' ? error_text : libcurl().easy_strerror(code)));
  }
  curl_certinfo* info = nullptr;
  if (libcurl().easy_getinfo(curl.get(), CURLINFO_CERTINFO, &info) != CURLE_OK) {
    info = nullptr;
  }
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
