#pragma once

#include "sconectl/util/error.hpp"

#include <tl/expected.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

// HTTP/1.1 messages as the project's clients speak them, with no dependency beyond the standard
// library, so that the static simulation runtime links it too: one request and response type, one
// interface that sends a request, one request writer and one response reader. The transports
// around them (libcurl with a pinned CAS key, the Docker Engine's unix socket, the runtime's TLS
// connection) stay apart: they differ in how they connect and whom they trust, not in HTTP.
namespace sconectl::http1 {

struct Request {
  std::string method;  // GET, POST, HEAD, ...
  std::string target;  // path and query, e.g. /v1/sessions/ns/svc?hash=...
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;  // more request headers ("X-Registry-Auth")
};

// A GET of `target` with `headers`.
[[nodiscard]] inline Request get_request(std::string target,
                                         std::map<std::string, std::string> headers = {})
{
  return Request{.method = "GET", .target = std::move(target), .headers = std::move(headers)};
}

struct Response {
  long status = 0;
  std::string body;
};

// Sends one request and returns the answer, whatever its status. An error only when there is no
// HTTP answer; its kind is the transport's (see each one).
class Transport {
 public:
  virtual ~Transport() = default;
  [[nodiscard]] virtual Result<Response> send(const Request& request) = 0;
  // Network connections opened so far; 0 for transports that use none (tests' in-memory ones).
  [[nodiscard]] virtual long connections_opened() const { return 0; }
};

// The request's bytes: request line, Host, the given headers, Content-Type and Content-Length
// when there is a body (or the method is POST or PUT), the empty line and the body.
[[nodiscard]] std::string format_request(const Request& request, std::string_view host);

// Reads one answer. `receive` puts up to `capacity` bytes at `into` and returns how many, 0 when
// the peer closed the connection, or why it could not (it waits as its transport does: a
// deadline is the transport's business). Handles Content-Length, chunked bodies and bodies that
// end with the connection, and answers that never have a body (1xx, 204, 304, and any answer to
// HEAD when `head` is set).
struct ReadFailure {
  std::string message;           // "it did not answer in HTTP/1", "its answer is too large", ...
  bool before_any_byte = false;  // closed before answering: a kept connection the peer dropped
};
struct Answer {
  Response response;
  bool keep_open = true;  // the connection may carry another request
};
struct ReadLimits {
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
};
using Receive =
    std::function<tl::expected<std::size_t, std::string>(char* into, std::size_t capacity)>;
[[nodiscard]] tl::expected<Answer, ReadFailure> read_response(const Receive& receive,
                                                              const ReadLimits& limits = {},
                                                              bool head = false);

}  // namespace sconectl::http1
