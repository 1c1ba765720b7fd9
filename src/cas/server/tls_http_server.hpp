#pragma once

// Private to the local CAS: HTTP/1.1 over TLS for many clients, some of them hostile.
//
// A few connection threads (one per core by default) each own the connections they accepted
// (epoll, non-blocking sockets and TLS): a thread completes their handshakes and reads their
// requests, each within a deadline, so a client that sends slowly holds only its own connection,
// never a worker. Only a complete request goes to a worker thread; its answer comes back to the
// connection's thread to be written. Handshakes are the costliest part of a short connection (a
// signature and a key exchange each), so they are spread over the connection threads: with one,
// a burst of new clients waited for a single core. Connections are limited in number, in total and
// per client address.

#include "http_request_reader.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/util/error.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using SSL_CTX = struct ssl_ctx_st;

namespace sconectl::cas::server {

struct ServerLimits {
  HttpLimits http;
  // From the accept to the end of the TLS handshake.
  std::chrono::milliseconds handshake_timeout{10'000};
  // From the end of the handshake, or a kept-alive request's first byte, to the end of the
  // request's header fields. A phase of its own: when a burst of clients connects at once, the
  // handshakes queue for the cores, and that wait must not eat the time of a request that follows.
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of the header fields to the end of the body.
  std::chrono::milliseconds body_timeout{30'000};
  // A kept-alive connection between requests.
  std::chrono::milliseconds idle_timeout{5'000};
  // Writing an answer.
  std::chrono::milliseconds write_timeout{10'000};
  // Open connections in all, and from one client address; more are closed as they arrive. The
  // total is also kept below the process's limit of open files.
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_source = 256;
  std::size_t worker_threads = 64;
  // Threads that accept, handshake, read and write; 0: one per core (at most 16).
  std::size_t connection_threads = 0;
};

struct HttpAnswer {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

// Who sent a request: the key hash of its TLS client certificate (std::nullopt without one) and
// its address, for logs and limits.
struct HttpPeer {
  std::optional<std::string> key_hash;
  std::string address;
};

// Called on worker threads, side by side: must be thread-safe and must not throw.
using HttpHandler = std::function<HttpAnswer(const HttpRequest&, const HttpPeer&)>;
// Called for every answer, also for requests refused before they reached the handler.
using HttpLogger = std::function<void(const HttpRequest&, const HttpPeer&, int status)>;

class TlsHttpServer {
 public:
  // Binds and listens; `context` is the server's TLS configuration, shared by all connections.
  [[nodiscard]] static Result<std::unique_ptr<TlsHttpServer>> listen(
      const CasAddress& address,
      std::shared_ptr<SSL_CTX> context,
      ServerLimits limits,
      HttpHandler handler,
      HttpLogger logger);
  TlsHttpServer(const TlsHttpServer&) = delete;
  TlsHttpServer& operator=(const TlsHttpServer&) = delete;
  ~TlsHttpServer();

  [[nodiscard]] int port() const;
  // Serves until stop(); an error only when the server cannot run.
  [[nodiscard]] Result<void> serve();
  // Thread-safe, and may come before serve(), which then returns at once.
  void stop();

 private:
  struct Impl;
  explicit TlsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The bytes of an answer: status line, Content-Type, Content-Length, its own fields, and the body
// unless `head_only` (an answer to HEAD).
[[nodiscard]] std::string format_answer(const HttpAnswer& answer, bool head_only, bool close);

}  // namespace sconectl::cas::server
