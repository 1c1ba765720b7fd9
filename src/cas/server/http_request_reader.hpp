#pragma once

// Private to the local CAS: HTTP/1.1 requests read from bytes as they arrive, with every limit a
// client on the network could otherwise push against (RFC 9112). No I/O, so the framing rules can
// be tested and fuzzed without a socket.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sconectl::cas::server {

struct HttpLimits {
  // Bytes of the body after de-chunking: what the handler would have to hold.
  std::size_t max_body_bytes = 1024 * 1024;
  // The request line and the header fields together (and, separately, a chunked body's trailer).
  std::size_t max_head_bytes = 16 * 1024;
  std::size_t max_header_fields = 100;
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  bool keep_alive = true;
  bool http_1_0 = false;  // an HTTP/1.0 client keeps the connection only when told so

  // The value of the first field of that (lower-case) name, or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

// Reads one request after another from a connection's bytes. Feed it what arrives; it says when a
// request is complete, or why the connection's input cannot be a valid request (then the server
// answers `status` with `message` and closes the connection).
class HttpRequestReader {
 public:
  enum class Progress {
    need_more,  // keep reading
    complete,   // take() the request
    failed,     // answer error_status() and close
  };

  explicit HttpRequestReader(HttpLimits limits) : m_limits(limits) {}

  // Adds bytes (possibly none: to parse what is buffered after take()).
  Progress feed(std::string_view bytes);

  // Moves the complete request out and starts reading the next one from the bytes left over.
  [[nodiscard]] HttpRequest take();

  // True once any byte of the current request arrived: from then on, the request timeouts run.
  [[nodiscard]] bool started() const { return !m_buffer.empty() || m_phase != Phase::head; }
  // True once the request line and header fields were read.
  [[nodiscard]] bool head_complete() const { return m_phase != Phase::head; }
  // The client asked for "100 Continue" before it sends the body, and the body is still to come.
  [[nodiscard]] bool wants_continue() const { return m_expect_continue && m_phase == Phase::body; }
  void continue_sent() { m_expect_continue = false; }

  [[nodiscard]] int error_status() const { return m_error_status; }
  [[nodiscard]] const std::string& error_message() const { return m_error_message; }

 private:
  enum class Phase {
    head,
    body,        // Content-Length bytes
    chunk_size,  // a chunk-size line
    chunk_data,  // the rest of a chunk
    chunk_end,   // the CRLF after a chunk's data
    trailer,     // trailer fields after the last chunk
    complete,
    failed,
  };

  Progress parse();
  void parse_head();
  void parse_framing();
  void parse_body();
  void parse_chunk_size();
  void parse_chunk_data();
  void parse_chunk_end();
  void parse_trailer();
  void fail(int status, std::string message);
  [[nodiscard]] std::string body_too_large() const;
  // The next line (without its CRLF or LF) at the start of the unparsed bytes, or std::nullopt
  // when no line end arrived yet.
  std::optional<std::string_view> next_line();

  HttpLimits m_limits;
  std::string m_buffer;
  std::size_t m_offset = 0;   // bytes of m_buffer already parsed
  std::size_t m_scanned = 0;  // bytes of m_buffer known to hold no line end after m_offset
  Phase m_phase = Phase::head;
  HttpRequest m_request;
  bool m_seen_request_line = false;
  bool m_http_1_0 = false;
  std::size_t m_head_bytes = 0;
  std::size_t m_body_left = 0;
  std::size_t m_trailer_bytes = 0;
  bool m_expect_continue = false;
  int m_error_status = 0;
  std::string m_error_message;
};

// The reason phrase of a status code the local CAS sends.
[[nodiscard]] std::string_view reason_phrase(int status);

}  // namespace sconectl::cas::server
