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

// HTTP/1.1 GET requests to the Docker Engine over its unix socket. Written out rather than
// through libcurl: loading libcurl and its dependencies costs more than the whole mesh step
// (about 5 ms of a 19 ms `apply -f mesh.yaml --dry-run`), and the engine's socket needs only this
// much of HTTP: one request at a time on a kept connection, answers with Content-Length, chunked,
// or ending with the connection.
namespace sconectl::image {

namespace {

constexpr std::size_t k_max_answer_bytes = 64 * 1024 * 1024;  // an image list of a busy host
constexpr std::size_t k_max_header_bytes = 64 * 1024;

// The connection to the engine; closed when it goes.
using Connection = UniqueFd;

using Clock = std::chrono::steady_clock;

// Why an answer could not be read; `before_any_byte` when the engine closed a kept connection
// before answering, which calls for one retry on a fresh connection.
struct ReadFailure {
  std::string message;
  bool before_any_byte = false;
};

class AnswerReader {
 public:
  AnswerReader(int fd, Clock::time_point deadline) : m_fd(fd), m_deadline(deadline) {}

  tl::expected<EngineResponse, ReadFailure> read(bool& keep_open)
  {
    std::size_t header_end = std::string::npos;
    while ((header_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
      if (m_buffer.size() > k_max_header_bytes) {
        return failure("its answer's header is too long");
      }
      if (auto more = fill(); !more) {
        return tl::unexpected(
            ReadFailure{more.error(), m_buffer.empty() && more.error() == k_closed});
      }
    }
    const std::string_view head(m_buffer.data(), header_end);
    EngineResponse response;
    if (!head.starts_with("HTTP/1.") || head.size() < 12 || head[8] != ' ') {
      return failure("it did not answer in HTTP/1");
    }
    for (std::size_t i = 9; i < 12; ++i) {
      if (head[i] < '0' || head[i] > '9') {
        return failure("its answer has no status code");
      }
      response.status = response.status * 10 + (head[i] - '0');
    }
    std::optional<std::size_t> length;
    bool chunked = false;
    keep_open = true;
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
      const auto next = head.find("\r\n", at + 2);
      const auto line = head.substr(at + 2, next == std::string_view::npos ? next : next - at - 2);
      at = next;
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) {
        continue;
      }
      const auto name = line.substr(0, colon);
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      if (equal_ignoring_case(name, "content-length")) {
        std::size_t number = 0;
        for (const char c : value) {
          if (c < '0' || c > '9' || number > k_max_answer_bytes) {
            return failure("its answer has a bad Content-Length");
          }
          number = number * 10 + static_cast<std::size_t>(c - '0');
        }
        length = number;
      } else if (equal_ignoring_case(name, "transfer-encoding")) {
        chunked = contains_ignoring_case(value, "chunked");
      } else if (equal_ignoring_case(name, "connection")) {
        keep_open = !contains_ignoring_case(value, "close");
      }
    }
    m_buffer.erase(0, header_end + 4);
    if (response.status / 100 == 1 || response.status == 204 || response.status == 304) {
      return response;  // answers that never have a body (RFC 9112, section 6.3)
    }
    Result<std::string> body = chunked  ? read_chunked()
                               : length ? read_exactly(*length)
                                        : read_to_end();
    if (!chunked && !length) {
      keep_open = false;
    }
    if (!body) {
      return failure(body.error().message);
    }
    response.body = std::move(*body);
    return response;
  }

 private:
  static constexpr const char* k_closed = "it closed the connection";

  static bool equal_ignoring_case(std::string_view a, std::string_view b)
  {
    if (a.size() != b.size()) {
      return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      if ((a[i] | 0x20) != (b[i] | 0x20)) {
        return false;
      }
    }
    return true;
  }

  static bool contains_ignoring_case(std::string_view text, std::string_view word)
  {
    for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
      if (equal_ignoring_case(text.substr(i, word.size()), word)) {
        return true;
      }
    }
    return false;
  }

  static tl::unexpected<ReadFailure> failure(std::string message)
  {
    return tl::unexpected(ReadFailure{std::move(message), false});
  }

  // Appends what the socket has to m_buffer, waiting until the deadline.
  tl::expected<void, std::string> fill()
  {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now()).count();
    pollfd ready{.fd = m_fd, .events = POLLIN, .revents = 0};
    const int polled = left > 0 ? ::poll(&ready, 1, static_cast<int>(left)) : 0;
    if (polled == 0) {
      return tl::unexpected(std::string("it did not answer in time"));
    }
    if (polled < 0) {
      return errno == EINTR ? tl::expected<void, std::string>()
                            : tl::unexpected(std::string(std::strerror(errno)));
    }
    char chunk[65536];
    const auto got = ::recv(m_fd, chunk, sizeof chunk, 0);
    if (got < 0 && errno == ECONNRESET) {
      return tl::unexpected(std::string(k_closed));
    }
    if (got < 0) {
      return errno == EINTR || errno == EAGAIN ? tl::expected<void, std::string>()
                                               : tl::unexpected(std::string(std::strerror(errno)));
    }
    if (got == 0) {
      return tl::unexpected(std::string(k_closed));
    }
    m_buffer.append(chunk, static_cast<std::size_t>(got));
    return {};
  }

  Result<void> need(std::size_t bytes)
  {
    while (m_buffer.size() < bytes) {
      if (auto more = fill(); !more) {
        return fail(ErrorKind::process, more.error() + " in the middle of its answer");
      }
    }
    return {};
  }

  Result<std::string> read_exactly(std::size_t size)
  {
    TRY(need(size));
    std::string body = m_buffer.substr(0, size);
    m_buffer.erase(0, size);
    return body;
  }

  Result<std::string> read_to_end()
  {
    while (true) {
      if (m_buffer.size() > k_max_answer_bytes) {
        return fail(ErrorKind::process, "its answer is too large");
      }
      if (auto more = fill(); !more) {
        if (more.error() == k_closed) {
          return std::move(m_buffer);
        }
        return fail(ErrorKind::process, more.error());
      }
    }
  }

  // Chunks of "<hex size>[;extension]\r\n<data>\r\n", a last one of size 0, then trailer lines.
  Result<std::string> read_chunked()
  {
    std::string body;
    while (true) {
      std::size_t line_end = std::string::npos;
      while ((line_end = m_buffer.find("\r\n")) == std::string::npos) {
        if (m_buffer.size() > k_max_header_bytes) {
          return fail(ErrorKind::process, "its answer has a bad chunk size");
        }
        TRY(need(m_buffer.size() + 1));
      }
      std::size_t size = 0;
      std::size_t digits = 0;
      for (; digits < line_end; ++digits) {
        const char c = m_buffer[digits];
        const int value = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (value < 0) {
          break;
        }
        size = size * 16 + static_cast<std::size_t>(value);
        if (size > k_max_answer_bytes) {
          return fail(ErrorKind::process, "its answer is too large");
        }
      }
      if (digits == 0
          || (digits < line_end && m_buffer[digits] != ';' && m_buffer[digits] != ' ')) {
        return fail(ErrorKind::process, "its answer has a bad chunk size");
      }
      m_buffer.erase(0, line_end + 2);
      if (size == 0) {
        // Trailer lines, up to an empty one.
        while (true) {
          std::size_t end = std::string::npos;
          while ((end = m_buffer.find("\r\n")) == std::string::npos) {
            TRY(need(m_buffer.size() + 1));
          }
          m_buffer.erase(0, end + 2);
          if (end == 0) {
            return body;
          }
        }
      }
      if (body.size() + size > k_max_answer_bytes) {
        return fail(ErrorKind::process, "its answer is too large");
      }
      TRY(need(size + 2));
      if (m_buffer.compare(size, 2, "\r\n") != 0) {
        return fail(ErrorKind::process, "its answer has a chunk of the wrong size");
      }
      body.append(m_buffer, 0, size);
      m_buffer.erase(0, size + 2);
    }
  }

  int m_fd;
  Clock::time_point m_deadline;
  std::string m_buffer;
};

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

  Result<EngineResponse> get(const std::string& path, const EngineHeaders& headers) override
  {
    const bool reused = m_connection != nullptr;
    auto answer = exchange(path, headers);
    if (!answer && answer.error().before_any_byte && reused) {
      answer = exchange(path, headers);  // the engine had closed the kept connection
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
  tl::expected<EngineResponse, ReadFailure> exchange(const std::string& path,
                                                     const EngineHeaders& headers)
  {
    if (!m_connection && !connect()) {
      return tl::unexpected(ReadFailure{});
    }
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: docker\r\nUser-Agent: sconectl\r\n";
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
    }
    request += "\r\n";
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
    bool keep_open = false;
    auto answer = AnswerReader(m_connection->get(), Clock::now() + m_timeout).read(keep_open);
    if (!answer || !keep_open) {
      m_connection.reset();
    }
    return answer;
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
