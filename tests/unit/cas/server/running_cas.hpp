#pragma once

// Shared by the local CAS's network tests: a server on a thread, and a bare TLS client that sends
// exactly the bytes a test gives it, as a hostile client would.

#include "sconectl/cas_server/local_cas.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace sconectl::cas::testing {

// A local CAS serving on a thread for the duration of a test.
class RunningCas {
 public:
  explicit RunningCas(const LocalCasOptions& options)
  {
    auto started = LocalCasServer::start(options);
    if (!started) {
      ADD_FAILURE() << started.error().describe();
      return;
    }
    m_server = std::move(*started);
    m_thread = std::thread([this] { m_served = m_server->serve().has_value(); });
  }
  RunningCas(const RunningCas&) = delete;
  RunningCas& operator=(const RunningCas&) = delete;
  ~RunningCas()
  {
    if (m_server) {
      m_server->stop();
      m_thread.join();
      EXPECT_TRUE(m_served);
    }
  }
  [[nodiscard]] const LocalCasEndpoint& endpoint() const { return m_server->endpoint(); }
  [[nodiscard]] int port() const
  {
    const auto& address = endpoint().address;
    return std::stoi(address.substr(address.rfind(':') + 1));
  }

 private:
  std::unique_ptr<LocalCasServer> m_server;
  std::thread m_thread;
  bool m_served = false;
};

struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

// A blocking TLS client over one TCP connection to 127.0.0.1. It does not check the server's
// certificate: these tests are about what the server does with what it is sent.
class RawTlsClient {
 public:
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;
  ~RawTlsClient()
  {
    if (m_ssl != nullptr) {
      SSL_free(m_ssl);
    }
    if (m_context != nullptr) {
      SSL_CTX_free(m_context);
    }
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }

  // Connects from `source` (any 127.0.0.0/8 address), without a TLS handshake.
  static std::unique_ptr<RawTlsClient> connect_tcp(int port, const std::string& source = "")
  {
    // A write to a connection the server closed must fail, not end the test process.
    ::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<RawTlsClient> client(new RawTlsClient());
    client->m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client->m_fd < 0) {
      return nullptr;
    }
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, source.c_str(), &local.sin_addr);
      if (::bind(client->m_fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        return nullptr;
      }
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(client->m_fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      return nullptr;
    }
    client->set_timeout(std::chrono::seconds(10));
    return client;
  }

  // Connects and completes the TLS handshake; nullptr when the server refuses either.
  static std::unique_ptr<RawTlsClient> connect(int port, const std::string& source = "")
  {
    auto client = connect_tcp(port, source);
    if (!client || !client->handshake()) {
      return nullptr;
    }
    return client;
  }

  bool handshake()
  {
    m_context = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(m_context, SSL_VERIFY_NONE, nullptr);
    m_ssl = SSL_new(m_context);
    SSL_set_fd(m_ssl, m_fd);
    return SSL_connect(m_ssl) == 1;
  }

  // The TLS connection, once handshake() succeeded.
  [[nodiscard]] SSL* ssl() const { return m_ssl; }

  void set_timeout(std::chrono::milliseconds timeout)
  {
    timeval value{};
    value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    value.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value);
    setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof value);
  }

  bool send(std::string_view bytes)
  {
    while (!bytes.empty()) {
      const int sent = SSL_write(m_ssl, bytes.data(), static_cast<int>(bytes.size()));
      if (sent <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // The next response (a Content-Length body), or std::nullopt when the connection ends first.
  std::optional<RawResponse> read_response()
  {
    while (true) {
      const auto end = m_received.find("\r\n\r\n");
      if (end != std::string::npos) {
        RawResponse response;
        response.head = m_received.substr(0, end + 2);
        response.status = std::stoi(response.head.substr(9, 3));
        const auto length_at = response.head.find("Content-Length: ");
        const std::size_t length =
            length_at == std::string::npos ? 0 : std::stoul(response.head.substr(length_at + 16));
        if (response.status == 100 || m_received.size() >= end + 4 + length) {
          const auto body_length = response.status == 100 ? 0 : length;
          response.body = m_received.substr(end + 4, body_length);
          m_received.erase(0, end + 4 + body_length);
          return response;
        }
      }
      if (!receive()) {
        return std::nullopt;
      }
    }
  }

  // True when the server ends the connection (close, reset or TLS close) within the timeout set.
  bool ended_by_server()
  {
    while (receive()) {
    }
    return !m_timed_out;
  }

 private:
  RawTlsClient() = default;

  bool receive()
  {
    char buffer[16384];
    const int got = m_ssl != nullptr ? SSL_read(m_ssl, buffer, sizeof buffer)
                                     : static_cast<int>(::recv(m_fd, buffer, sizeof buffer, 0));
    if (got <= 0) {
      m_timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
      if (m_ssl != nullptr && SSL_get_error(m_ssl, got) != SSL_ERROR_SYSCALL) {
        m_timed_out = false;
      }
      return false;
    }
    m_received.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  int m_fd = -1;
  SSL_CTX* m_context = nullptr;
  SSL* m_ssl = nullptr;
  std::string m_received;
  bool m_timed_out = false;
};

}  // namespace sconectl::cas::testing
