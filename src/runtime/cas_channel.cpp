#include "sconectl/runtime/cas_channel.hpp"

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/util/unique_fd.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <span>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sconectl::runtime {

namespace {

constexpr std::size_t k_max_answer_bytes = 16 * 1024 * 1024;

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// A connected socket; closed when it goes.
using Socket = UniqueFd;

// The TLS configuration of every connection the process makes, built once: OpenSSL 3 looks up
// every cipher and signature algorithm for a new SSL_CTX, which costs more than a handshake's
// signature check, and a process that connects again (a retry, the load generator of
// bench/bench_attest.cpp) need not pay it again. It holds no key and no connection's state, and
// OpenSSL allows sharing it between threads once it is set up. Null when OpenSSL cannot set it up.
std::shared_ptr<SSL_CTX> client_context()
{
  static const std::shared_ptr<SSL_CTX> shared = []() -> std::shared_ptr<SSL_CTX> {
    std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!context || SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1) {
      return nullptr;
    }
    // Verification is the pin check in connect_pinned: the CAS certificate is self-issued, and
    // its key is what the operator gave us.
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    return context;
  }();
  return shared;
}

std::string openssl_reason()
{
  const auto code = ERR_get_error();
  if (code == 0) {
    return "no detail";
  }
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

Result<Socket> connect_tcp(const cas::CasAddress& address, std::chrono::milliseconds timeout)
{
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const auto port = std::to_string(address.port);
  if (const int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(ErrorKind::network,
                "cannot resolve the CAS host " + address.host + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    Socket socket(::socket(candidate->ai_family,
                           candidate->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                           candidate->ai_protocol));
    if (socket.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    if (::connect(socket.get(), candidate->ai_addr, candidate->ai_addrlen) != 0
        && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      continue;
    }
    pollfd waiting{.fd = socket.get(), .events = POLLOUT, .revents = 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    if (ready <= 0) {
      last_error = ready == 0 ? "timed out" : std::strerror(errno);
      continue;
    }
    ::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (socket_error != 0) {
      last_error = std::strerror(socket_error);
      continue;
    }
    // Each request is written whole, and the answer waited for: Nagle's algorithm could only hold
    // a request back until the CAS acknowledges the handshake's last flight.
    const int yes = 1;
    ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    // Blocking from here on, with the same limit on every read and write.
    const int flags = 0;
    ::fcntl(socket.get(), F_SETFL, flags);
    timeval limit{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
                  .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    ::freeaddrinfo(found);
    return socket;
  }
  ::freeaddrinfo(found);
  return fail(ErrorKind::network,
              "cannot connect to the CAS at " + address.authority() + ": " + last_error);
}

class PinnedChannel final : public CasChannel {
 public:
  PinnedChannel(Socket socket,
                std::shared_ptr<SSL_CTX> context,
                std::unique_ptr<SSL, SslDeleter> ssl,
                std::string authority)
      : m_socket(std::move(socket)),
        m_context(std::move(context)),
        m_ssl(std::move(ssl)),
        m_authority(std::move(authority))
  {
  }
  ~PinnedChannel() override { SSL_shutdown(m_ssl.get()); }
  PinnedChannel(const PinnedChannel&) = delete;
  PinnedChannel& operator=(const PinnedChannel&) = delete;

  Result<ChannelAnswer> send(const http1::Request& request) override
  {
    auto with_accept = request;
    with_accept.headers.emplace("Accept", "application/json");
    const auto bytes = http1::format_request(with_accept, m_authority);
    if (SSL_write(m_ssl.get(), bytes.data(), static_cast<int>(bytes.size())) <= 0) {
      return fail(ErrorKind::network, "cannot send to the CAS at " + m_authority);
    }
    const http1::Receive receive =
        [this](char* into, std::size_t capacity) -> tl::expected<std::size_t, std::string> {
      const int count = SSL_read(m_ssl.get(), into, static_cast<int>(capacity));
      if (count > 0) {
        return static_cast<std::size_t>(count);
      }
      if (SSL_get_error(m_ssl.get(), count) == SSL_ERROR_ZERO_RETURN) {
        return 0;
      }
      return tl::unexpected("the TLS connection failed: " + openssl_reason());
    };
    auto answer = http1::read_response(
        receive, {.max_body_bytes = k_max_answer_bytes}, request.method == "HEAD");
    if (!answer) {
      return fail(ErrorKind::network,
                  "the CAS at " + m_authority + " failed: " + answer.error().message);
    }
    return std::move(answer->response);
  }

 private:
  Socket m_socket;
  std::shared_ptr<SSL_CTX> m_context;
  std::unique_ptr<SSL, SslDeleter> m_ssl;
  std::string m_authority;
};

}  // namespace

Result<std::unique_ptr<CasChannel>> connect_pinned(const std::string& address_text,
                                                   const std::string& key_hash,
                                                   std::chrono::milliseconds timeout)
{
  const auto pinned = cas::parse_key_hash(key_hash);
  if (!pinned) {
    return fail(ErrorKind::usage,
                "SCONE_CAS_KEY is not a CAS key hash: " + cas::key_hash_problem(key_hash));
  }
  auto address = cas::parse_cas_address(address_text);
  if (!address) {
    return forward_error(std::move(address.error()));
  }
  auto socket = connect_tcp(*address, timeout);
  if (!socket) {
    return forward_error(std::move(socket.error()));
  }
  auto context = client_context();
  if (!context) {
    return fail(ErrorKind::tls, "cannot set up TLS: " + openssl_reason());
  }
  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(context.get()));
  if (!ssl || SSL_set_fd(ssl.get(), socket->get()) != 1) {
    return fail(ErrorKind::tls, "cannot set up TLS: " + openssl_reason());
  }
  // SNI names hosts, never IP addresses (RFC 6066).
  in6_addr ignored{};
  const bool is_ip = ::inet_pton(AF_INET, address->host.c_str(), &ignored) == 1
                     || ::inet_pton(AF_INET6, address->host.c_str(), &ignored) == 1;
  if (!is_ip
      && SSL_ctrl(ssl.get(),
                  SSL_CTRL_SET_TLSEXT_HOSTNAME,
                  TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(address->host.c_str()))
             != 1) {
    return fail(ErrorKind::tls, "cannot set up TLS: " + openssl_reason());
  }
  if (SSL_connect(ssl.get()) != 1) {
    return fail(
        ErrorKind::tls,
        "TLS handshake with the CAS at " + address->authority() + " failed: " + openssl_reason());
  }
  X509* peer = SSL_get0_peer_certificate(ssl.get());
  unsigned char* spki = nullptr;
  const int spki_size = peer != nullptr ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(peer), &spki) : -1;
  if (spki_size <= 0) {
    return fail(ErrorKind::tls, "the CAS at " + address->authority() + " sent no certificate");
  }
  const auto presented = cas::key_hash_of_spki(
      std::span<const std::uint8_t>(spki, static_cast<std::size_t>(spki_size)));
  CRYPTO_free(static_cast<void*>(spki), __FILE__, __LINE__);
  if (presented != key_hash) {
    return fail(ErrorKind::tls,
                "the CAS at " + address->authority() + " presented the key " + presented
                    + ", not the pinned SCONE_CAS_KEY " + key_hash + ": nothing was sent to it");
  }
  return std::unique_ptr<CasChannel>(new PinnedChannel(
      std::move(*socket), std::move(context), std::move(ssl), address->authority()));
}

}  // namespace sconectl::runtime
