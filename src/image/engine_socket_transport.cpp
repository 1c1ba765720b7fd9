#include "docker_messages.hpp"
#include "sconectl/image/docker_engine.hpp"
#include "sconectl/util/unique_fd.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

// HTTP/1.1 requests to the Docker Engine over its unix socket, through the project's own HTTP/1.1
// writer and reader (util/http1.hpp) rather than libcurl: loading libcurl and its dependencies
// costs more than the whole mesh step (about 5 ms of a 19 ms `apply -f mesh.yaml --dry-run`), and
// the engine's socket needs only one request at a time on a kept connection.
namespace sconectl::image {

namespace {

constexpr http1::ReadLimits k_limits{.max_header_bytes = 64 * 1024,
                                     // an image list of a busy host
                                     .max_body_bytes = 64 * 1024 * 1024};

// The connection to the engine; closed when it goes.
using Connection = UniqueFd;

using Clock = std::chrono::steady_clock;

// What the socket has, waiting for it until `deadline`: the reader's source of bytes.
http1::Receive receive_until(int fd, Clock::time_point deadline)
{
  return [fd, deadline](char* into,
                        std::size_t capacity) -> tl::expected<std::size_t, std::string> {
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
      const int polled = left > 0 ? ::poll(&ready, 1, static_cast<int>(left)) : 0;
      if (polled == 0) {
        return tl::unexpected(std::string("it did not answer in time"));
      }
      if (polled < 0) {
        if (errno == EINTR) {
          continue;
        }
        return tl::unexpected(std::string(std::strerror(errno)));
      }
      const auto got = ::recv(fd, into, capacity, 0);
      if (got < 0 && errno == ECONNRESET) {
        return 0;  // as a close: a kept connection the engine dropped
      }
      if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) {
          continue;
        }
        return tl::unexpected(std::string(std::strerror(errno)));
      }
      return static_cast<std::size_t>(got);
    }
  };
}

class UnixSocketTransport final : public EngineTransport {
 public:
  UnixSocketTransport(std::string socket_path,
                      std::string engine,
                      std::chrono::milliseconds timeout)
      : m_socket(std::move(socket_path)), m_engine(std::move(engine)), m_timeout(timeout)
  {
    if (m_engine.empty()) {
      m_engine = "unix://" + m_socket;
    }
  }

  Result<EngineResponse> send(const http1::Request& request) override
  {
    const bool reused = m_connection != nullptr;
    auto answer = exchange(request);
    if (!answer && answer.error().before_any_byte && reused) {
      answer = exchange(request);  // the engine had closed the kept connection
    }
    if (!answer) {
      m_connection.reset();
      if (answer.error().message.empty()) {
        return tl::unexpected(std::move(m_connect_error));
      }
      return fail(ErrorKind::process,
                  "the Docker Engine API at " + m_socket + " failed: " + answer.error().message);
    }
    return std::move(*answer);
  }

 private:
  // Empty message: connecting failed, m_connect_error says why.
  tl::expected<EngineResponse, http1::ReadFailure> exchange(const http1::Request& message)
  {
    using http1::ReadFailure;
    if (!m_connection && !connect()) {
      return tl::unexpected(ReadFailure{});
    }
    auto with_agent = message;
    with_agent.headers.emplace("User-Agent", "sconectl");
    const auto request = http1::format_request(with_agent, "docker");
    for (std::size_t sent = 0; sent < request.size();) {
      const auto wrote =
          ::send(m_connection->get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (wrote < 0 && errno == EINTR) {
        continue;
      }
      if (wrote <= 0) {
        const int error_number = errno;
        m_connection.reset();
        return tl::unexpected(
            ReadFailure{"cannot send a request: " + std::string(std::strerror(error_number)),
                        sent == 0 && error_number == EPIPE});
      }
      sent += static_cast<std::size_t>(wrote);
    }
    auto answer = http1::read_response(receive_until(m_connection->get(), Clock::now() + m_timeout),
                                       k_limits,
                                       message.method == "HEAD");
    if (!answer || !answer->keep_open) {
      m_connection.reset();
    }
    if (!answer) {
      return tl::unexpected(std::move(answer.error()));
    }
    return std::move(answer->response);
  }

  bool connect()
  {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (m_socket.size() >= sizeof address.sun_path) {
      m_connect_error = detail::daemon_unreachable(m_engine);
      return false;
    }
    std::memcpy(address.sun_path, m_socket.c_str(), m_socket.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      m_connect_error =
          Error{.kind = ErrorKind::process,
                .message = "cannot open a socket: " + std::string(std::strerror(errno))};
      return false;
    }
    auto connection = std::make_unique<Connection>(fd);
    // connect() on a unix socket waits while the engine's accept queue is full; Linux bounds that
    // wait by the send timeout.
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(m_timeout);
    const timeval limit{
        .tv_sec = static_cast<time_t>(seconds.count()),
        .tv_usec = static_cast<suseconds_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(m_timeout - seconds).count())};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    int connected = 0;
    do {
      connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    } while (connected != 0 && errno == EINTR);
    if (connected != 0) {
      // What the CLI would say: a socket this user may not open is refused, any other is down.
      m_connect_error = errno == EACCES ? detail::daemon_refused_user(m_engine)
                                        : detail::daemon_unreachable(m_engine);
      return false;
    }
    m_connection = std::move(connection);
    return true;
  }

  std::string m_socket;
  std::string m_engine;
  std::chrono::milliseconds m_timeout;
  std::unique_ptr<Connection> m_connection;
  Error m_connect_error;
};

}  // namespace

Result<std::unique_ptr<EngineTransport>> unix_socket_transport(std::string socket_path,
                                                               std::string engine,
                                                               std::chrono::milliseconds timeout)
{
  return std::unique_ptr<EngineTransport>(
      std::make_unique<UnixSocketTransport>(std::move(socket_path), std::move(engine), timeout));
}

}  // namespace sconectl::image
