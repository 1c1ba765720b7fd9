#include "sconectl/util/http1.hpp"

#include <array>
#include <optional>

namespace sconectl::http1 {

namespace {

constexpr const char* k_closed = "it closed the connection";

bool equal_ignoring_case(std::string_view a, std::string_view b)
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

bool contains_ignoring_case(std::string_view text, std::string_view word)
{
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (equal_ignoring_case(text.substr(i, word.size()), word)) {
      return true;
    }
  }
  return false;
}

tl::unexpected<ReadFailure> failure(std::string message)
{
  return tl::unexpected(ReadFailure{std::move(message), false});
}

class ResponseReader {
 public:
  ResponseReader(const Receive& receive, const ReadLimits& limits)
      : m_receive(receive), m_limits(limits)
  {
  }

  tl::expected<Answer, ReadFailure> read(bool head)
  {
    std::size_t header_end = std::string::npos;
    while ((header_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
      if (m_buffer.size() > m_limits.max_header_bytes) {
        return failure("its answer's header is too long");
      }
      auto more = fill();
      if (!more) {
        return failure(std::move(more.error()));
      }
      if (!*more) {
        return tl::unexpected(ReadFailure{k_closed, m_buffer.empty()});
      }
    }
    const std::string_view header(m_buffer.data(), header_end);
    Answer answer;
    if (!header.starts_with("HTTP/1.") || header.size() < 12 || header[8] != ' ') {
      return failure("it did not answer in HTTP/1");
    }
    for (std::size_t i = 9; i < 12; ++i) {
      if (header[i] < '0' || header[i] > '9') {
        return failure("its answer has no status code");
      }
      answer.response.status = answer.response.status * 10 + (header[i] - '0');
    }
    std::optional<std::size_t> length;
    bool chunked = false;
    for (std::size_t at = header.find("\r\n"); at != std::string_view::npos;) {
      const auto next = header.find("\r\n", at + 2);
      const auto line =
          header.substr(at + 2, next == std::string_view::npos ? next : next - at - 2);
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
          if (c < '0' || c > '9' || number > m_limits.max_body_bytes) {
            return failure("its answer has a bad Content-Length");
          }
          number = number * 10 + static_cast<std::size_t>(c - '0');
        }
        if (number > m_limits.max_body_bytes) {
          return failure("its answer is too large");
        }
        length = number;
      } else if (equal_ignoring_case(name, "transfer-encoding")) {
        chunked = contains_ignoring_case(value, "chunked");
      } else if (equal_ignoring_case(name, "connection")) {
        answer.keep_open = !contains_ignoring_case(value, "close");
      }
    }
    m_buffer.erase(0, header_end + 4);
    const auto status = answer.response.status;
    if (head || status / 100 == 1 || status == 204 || status == 304) {
      return answer;  // answers that never have a body (RFC 9112, section 6.3)
    }
    auto body = chunked ? read_chunked() : length ? read_exactly(*length) : read_to_end();
    if (!chunked && !length) {
      answer.keep_open = false;
    }
    if (!body) {
      return failure(body.error());
    }
    answer.response.body = std::move(*body);
    return answer;
  }

 private:
  using Text = tl::expected<std::string, std::string>;

  // Appends what the peer sends next to m_buffer: true, or false when the peer closed the
  // connection (told apart from a failure by the value, never by a message's text).
  tl::expected<bool, std::string> fill()
  {
    std::array<char, 65536> chunk{};
    auto got = m_receive(chunk.data(), chunk.size());
    if (!got) {
      return tl::unexpected(std::move(got.error()));
    }
    if (*got == 0) {
      return false;
    }
    m_buffer.append(chunk.data(), *got);
    return true;
  }

  tl::expected<void, std::string> need(std::size_t bytes)
  {
    while (m_buffer.size() < bytes) {
      auto more = fill();
      if (!more || !*more) {
        return tl::unexpected((more ? std::string(k_closed) : more.error())
                              + " in the middle of its answer");
      }
    }
    return {};
  }

  Text read_exactly(std::size_t size)
  {
    if (auto enough = need(size); !enough) {
      return tl::unexpected(std::move(enough.error()));
    }
    std::string body = m_buffer.substr(0, size);
    m_buffer.erase(0, size);
    return body;
  }

  Text read_to_end()
  {
    while (true) {
      if (m_buffer.size() > m_limits.max_body_bytes) {
        return tl::unexpected(std::string("its answer is too large"));
      }
      auto more = fill();
      if (!more) {
        return tl::unexpected(std::move(more.error()));
      }
      if (!*more) {
        return std::move(m_buffer);
      }
    }
  }

  // Chunks of "<hex size>[;extension]\r\n<data>\r\n", a last one of size 0, then trailer lines.
  Text read_chunked()
  {
    std::string body;
    while (true) {
      std::size_t line_end = std::string::npos;
      while ((line_end = m_buffer.find("\r\n")) == std::string::npos) {
        if (m_buffer.size() > m_limits.max_header_bytes) {
          return tl::unexpected(std::string("its answer has a bad chunk size"));
        }
        if (auto more = need(m_buffer.size() + 1); !more) {
          return tl::unexpected(std::move(more.error()));
        }
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
        if (size > m_limits.max_body_bytes) {
          return tl::unexpected(std::string("its answer is too large"));
        }
      }
      if (digits == 0
          || (digits < line_end && m_buffer[digits] != ';' && m_buffer[digits] != ' ')) {
        return tl::unexpected(std::string("its answer has a bad chunk size"));
      }
      m_buffer.erase(0, line_end + 2);
      if (size == 0) {
        // Trailer lines, up to an empty one.
        while (true) {
          std::size_t end = std::string::npos;
          while ((end = m_buffer.find("\r\n")) == std::string::npos) {
            if (auto more = need(m_buffer.size() + 1); !more) {
              return tl::unexpected(std::move(more.error()));
            }
          }
          m_buffer.erase(0, end + 2);
          if (end == 0) {
            return body;
          }
        }
      }
      if (body.size() + size > m_limits.max_body_bytes) {
        return tl::unexpected(std::string("its answer is too large"));
      }
      if (auto more = need(size + 2); !more) {
        return tl::unexpected(std::move(more.error()));
      }
      if (m_buffer.compare(size, 2, "\r\n") != 0) {
        return tl::unexpected(std::string("its answer has a chunk of the wrong size"));
      }
      body.append(m_buffer, 0, size);
      m_buffer.erase(0, size + 2);
    }
  }

  const Receive& m_receive;
  ReadLimits m_limits;
  std::string m_buffer;
};

}  // namespace

std::string format_request(const Request& request, std::string_view host)
{
  std::string bytes = request.method + " " + request.target + " HTTP/1.1\r\nHost: ";
  bytes.append(host);
  bytes += "\r\n";
  for (const auto& [name, value] : request.headers) {
    bytes += name + ": " + value + "\r\n";
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    if (!request.content_type.empty()) {
      bytes += "Content-Type: " + request.content_type + "\r\n";
    }
    bytes += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  bytes += "\r\n";
  bytes += request.body;
  return bytes;
}

tl::expected<Answer, ReadFailure> read_response(const Receive& receive,
                                                const ReadLimits& limits,
                                                bool head)
{
  return ResponseReader(receive, limits).read(head);
}

}  // namespace sconectl::http1
