#pragma once

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/client_config.hpp"
#include "sconectl/cas/identity.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/http1.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

// HTTPS to a CAS. The CAS client speaks through HttpTransport so its logic (retries, conflicts,
// predecessor chains) is tested without a network; CurlTransport is the real one.
namespace sconectl::cas {

using HttpRequest = http1::Request;
using HttpResponse = http1::Response;

// A failure before any HTTP answer is an Error of kind `network` (worth retrying: refused,
// reset, timed out) or `tls` (never retried: a peer that fails verification stays untrusted).
using HttpTransport = http1::Transport;

// How the CAS's certificate is checked.
struct PeerTrust {
  TrustMode mode = TrustMode::pinned_key;
  std::string cas_key;  // pinned_key: the key hash the leaf certificate must have
  std::string ca_pem;   // ca: the anchors the chain must verify against (host name checked too)
};

struct Timeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds request{30000};
};

struct CurlTransportOptions {
  CasAddress address;
  PeerTrust trust;
  std::optional<TlsIdentity> client_identity;  // presented to the CAS (mutual TLS)
  Timeouts timeouts;
  // Keep one connection open across requests. Off only for the baseline benchmark.
  bool reuse_connection = true;
};

// libcurl with OpenSSL. One handle, hence one TLS connection reused for every request.
class CurlTransport final : public HttpTransport {
 public:
  static Result<std::unique_ptr<CurlTransport>> create(CurlTransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request) override;
  // Connections opened so far (1 when every request reused the first one).
  [[nodiscard]] long connections_opened() const override { return m_connections; }

 private:
  // CURL is `void` in curl.h; the deleter is defined where curl.h is included.
  struct EasyHandleDeleter {
    void operator()(void* handle) const;
  };

  explicit CurlTransport(CurlTransportOptions options);
  CurlTransportOptions m_options;
  std::unique_ptr<void, EasyHandleDeleter> m_handle;
  long m_connections = 0;
};

// The certificate chain (PEM, leaf first) that the server at `address` presents, read without
// trusting it and without a client certificate. For `cas attest` and for explaining a mismatch.
[[nodiscard]] Result<std::string> fetch_presented_chain(const CasAddress& address,
                                                        const Timeouts& timeouts);

}  // namespace sconectl::cas
