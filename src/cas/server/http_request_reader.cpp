#include "http_request_reader.hpp"

#include "sconectl/util/strings.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace sconectl::cas::server {

namespace {

// A chunk-size line is a few hex digits and perhaps an extension: nothing needs more.
constexpr std::size_t k_max_chunk_size_line = 1024;

bool is_token_char(unsigned char c)
{
  static constexpr std::string_view k_specials = "!#$%&'*+-.^_`|~";
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || k_specials.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text)
{
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
}

// Field values: visible characters, spaces, tabs and obs-text; never a control character.
bool is_field_value(std::string_view text)
{
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

// The comma-separated elements of every field of that name, trimmed, in lower case.
std::vector<std::string> list_elements(const HttpRequest& request, std::string_view name)
{
  std::vector<std::string> elements;
  for (const auto& [field, value] : request.headers) {
    if (field != name) {
      continue;
    }
    std::string_view rest = value;
    while (true) {
      const auto comma = rest.find(',');
      const auto element = strings::trim(rest.substr(0, comma));
      if (!element.empty()) {
        elements.push_back(strings::ascii_lower(element));
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return elements;
}

bool has_field(const HttpRequest& request, std::string_view name)
{
  return std::any_of(request.headers.begin(), request.headers.end(), [name](const auto& field) {
    return field.first == name;
  });
}

bool is_hex_digit(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const
{
  for (const auto& [field, value] : headers) {
    if (field == name) {
      return value;
    }
  }
  return "";
}

HttpRequestReader::Progress HttpRequestReader::feed(std::string_view bytes)
{
  if (m_phase == Phase::failed) {
    return Progress::failed;
  }
  if (m_phase == Phase::complete) {
    return Progress::complete;
  }
  m_buffer.append(bytes);
  const auto progress = parse();
  // Keep only what is not parsed yet: a body's bytes move into the request as they arrive.
  if (m_offset == m_buffer.size()) {
    m_buffer.clear();
    m_offset = 0;
    m_scanned = 0;
  } else if (m_offset > 16 * 1024) {
    m_buffer.erase(0, m_offset);
    m_scanned -= std::min(m_scanned, m_offset);
    m_offset = 0;
  }
  return progress;
}

HttpRequest HttpRequestReader::take()
{
  HttpRequest request = std::move(m_request);
  m_request = HttpRequest{};
  m_phase = Phase::head;
  m_head_bytes = 0;
  m_body_left = 0;
  m_trailer_bytes = 0;
  m_expect_continue = false;
  m_seen_request_line = false;
  return request;
}

void HttpRequestReader::fail(int status, std::string message)
{
  m_phase = Phase::failed;
  m_error_status = status;
  m_error_message = std::move(message);
}

std::optional<std::string_view> HttpRequestReader::next_line()
{
  const auto end = m_buffer.find('\n', std::max(m_offset, m_scanned));
  if (end == std::string::npos) {
    m_scanned = m_buffer.size();
    return std::nullopt;
  }
  std::string_view line(m_buffer.data() + m_offset, end - m_offset);
  m_offset = end + 1;
  m_scanned = m_offset;
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

HttpRequestReader::Progress HttpRequestReader::parse()
{
  // Each step consumes what it can; stop when one changes nothing (it waits for more bytes).
  while (m_phase != Phase::complete && m_phase != Phase::failed) {
    const auto phase = m_phase;
    const auto offset = m_offset;
    switch (m_phase) {
      case Phase::head:
        parse_head();
        break;
      case Phase::body:
        parse_body();
        break;
      case Phase::chunk_size:
        parse_chunk_size();
        break;
      case Phase::chunk_data:
        parse_chunk_data();
        break;
      case Phase::chunk_end:
        parse_chunk_end();
        break;
      case Phase::trailer:
        parse_trailer();
        break;
      case Phase::complete:
      case Phase::failed:
        break;
    }
    if (m_phase == phase && m_offset == offset) {
      return Progress::need_more;
    }
  }
  return m_phase == Phase::complete ? Progress::complete : Progress::failed;
}

void HttpRequestReader::parse_head()
{
  while (true) {
    const auto line = next_line();
    if (!line) {
      if (m_head_bytes + (m_buffer.size() - m_offset) > m_limits.max_head_bytes) {
        return fail(431,
                    "the request line and header fields are larger than "
                        + std::to_string(m_limits.max_head_bytes) + " bytes");
      }
      return;
    }
    m_head_bytes += line->size() + 1;
    if (m_head_bytes > m_limits.max_head_bytes) {
      return fail(431,
                  "the request line and header fields are larger than "
                      + std::to_string(m_limits.max_head_bytes) + " bytes");
    }
    if (line->find('\r') != std::string_view::npos) {
      return fail(400, "malformed HTTP request: a carriage return inside a line");
    }
    if (!m_seen_request_line) {
      // A server should ignore empty lines before the request line (RFC 9112, 2.2).
      if (line->empty()) {
        continue;
      }
      const auto first_space = line->find(' ');
      const auto last_space = line->rfind(' ');
      if (first_space == std::string_view::npos || first_space == last_space) {
        return fail(400, "malformed HTTP request line");
      }
      const auto method = line->substr(0, first_space);
      const auto target = line->substr(first_space + 1, last_space - first_space - 1);
      const auto version = line->substr(last_space + 1);
      if (!is_token(method) || target.empty()
          || std::any_of(target.begin(), target.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20
                      || static_cast<unsigned char>(c) >= 0x7f;
             })) {
        return fail(400, "malformed HTTP request line");
      }
      if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return fail(version.starts_with("HTTP/") ? 505 : 400,
                    version.starts_with("HTTP/") ? "only HTTP/1.1 and HTTP/1.0 are spoken"
                                                 : "malformed HTTP request line");
      }
      m_request.method = std::string(method);
      m_request.target = std::string(target);
      m_http_1_0 = version == "HTTP/1.0";
      m_request.http_1_0 = m_http_1_0;
      m_seen_request_line = true;
      continue;
    }
    if (line->empty()) {
      return parse_framing();
    }
    if (line->front() == ' ' || line->front() == '\t') {
      return fail(400, "malformed HTTP request: a folded header field");
    }
    const auto colon = line->find(':');
    if (colon == std::string_view::npos || !is_token(line->substr(0, colon))) {
      return fail(400, "malformed HTTP header field");
    }
    const auto value = strings::trim(line->substr(colon + 1));
    if (!is_field_value(value)) {
      return fail(400, "malformed HTTP header field: a control character in its value");
    }
    if (m_request.headers.size() == m_limits.max_header_fields) {
      return fail(431,
                  "more than " + std::to_string(m_limits.max_header_fields) + " header fields");
    }
    m_request.headers.emplace_back(strings::ascii_lower(line->substr(0, colon)),
                                   std::string(value));
  }
}

void HttpRequestReader::parse_framing()
{
  const auto connection = list_elements(m_request, "connection");
  const auto has = [&connection](std::string_view option) {
    return std::find(connection.begin(), connection.end(), option) != connection.end();
  };
  m_request.keep_alive = m_http_1_0 ? has("keep-alive") : !has("close");

  for (const auto& coding : list_elements(m_request, "content-encoding")) {
    if (coding != "identity") {
      return fail(415,
                  "Content-Encoding " + coding.substr(0, 40)
                      + " is not accepted: send the body as it is, without compression");
    }
  }

  bool has_body = false;
  if (has_field(m_request, "transfer-encoding")) {
    if (has_field(m_request, "content-length")) {
      return fail(400, "a request must not have both Transfer-Encoding and Content-Length");
    }
    if (m_http_1_0) {
      return fail(400, "Transfer-Encoding is not HTTP/1.0");
    }
    const auto codings = list_elements(m_request, "transfer-encoding");
    if (codings.size() != 1 || codings.front() != "chunked") {
      return fail(501, "only Transfer-Encoding chunked is supported");
    }
    m_phase = Phase::chunk_size;
    has_body = true;
  } else if (has_field(m_request, "content-length")) {
    std::optional<std::uint64_t> length;
    for (const auto& element : list_elements(m_request, "content-length")) {
      std::uint64_t value = 0;
      const auto* end = element.data() + element.size();
      const auto [stop, error] = std::from_chars(element.data(), end, value);
      if (element.empty() || error != std::errc{} || stop != end || element.front() == '+') {
        return fail(400, "malformed Content-Length");
      }
      if (length && *length != value) {
        return fail(400, "conflicting Content-Length values");
      }
      length = value;
    }
    if (!length) {
      return fail(400, "malformed Content-Length");
    }
    if (*length > m_limits.max_body_bytes) {
      return fail(413, body_too_large());
    }
    m_body_left = static_cast<std::size_t>(*length);
    m_request.body.reserve(m_body_left);
    has_body = m_body_left > 0;
    m_phase = has_body ? Phase::body : Phase::complete;
  } else {
    m_phase = Phase::complete;
  }

  const auto expectations = list_elements(m_request, "expect");
  for (const auto& expectation : expectations) {
    if (expectation != "100-continue") {
      return fail(417, "only the expectation 100-continue is understood");
    }
  }
  m_expect_continue = has_body && !expectations.empty() && !m_http_1_0;
}

std::string HttpRequestReader::body_too_large() const
{
  return "the request body is larger than " + std::to_string(m_limits.max_body_bytes)
         + " bytes (the CAS's --max-body-bytes)";
}

void HttpRequestReader::parse_body()
{
  const auto taken = std::min(m_body_left, m_buffer.size() - m_offset);
  m_request.body.append(m_buffer, m_offset, taken);
  m_offset += taken;
  m_body_left -= taken;
  if (m_body_left == 0) {
    m_phase = Phase::complete;
    return;
  }
  return;
}

void HttpRequestReader::parse_chunk_size()
{
  const auto line = next_line();
  if (!line) {
    if (m_buffer.size() - m_offset > k_max_chunk_size_line) {
      fail(400, "malformed chunked body: a chunk-size line is too long");
    }
    return;
  }
  if (line->size() > k_max_chunk_size_line) {
    return fail(400, "malformed chunked body: a chunk-size line is too long");
  }
  std::size_t digits = 0;
  std::uint64_t size = 0;
  const std::uint64_t room = m_limits.max_body_bytes - m_request.body.size();
  while (digits < line->size() && is_hex_digit((*line)[digits])) {
    const char c = (*line)[digits];
    const auto value = static_cast<std::uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    size = size * 16 + value;
    if (size > room) {
      return fail(413, body_too_large());
    }
    ++digits;
  }
  const auto rest = strings::trim(line->substr(digits));
  if (digits == 0 || (!rest.empty() && rest.front() != ';') || !is_field_value(rest)) {
    return fail(400, "malformed chunked body: a bad chunk-size line");
  }
  if (size == 0) {
    m_phase = Phase::trailer;
    return;
  }
  m_body_left = static_cast<std::size_t>(size);
  m_phase = Phase::chunk_data;
  return;
}

void HttpRequestReader::parse_chunk_data()
{
  const auto taken = std::min(m_body_left, m_buffer.size() - m_offset);
  m_request.body.append(m_buffer, m_offset, taken);
  m_offset += taken;
  m_body_left -= taken;
  if (m_body_left == 0) {
    m_phase = Phase::chunk_end;
  }
  return;
}

void HttpRequestReader::parse_chunk_end()
{
  const auto line = next_line();
  if (!line) {
    if (m_buffer.size() - m_offset > 1) {
      fail(400, "malformed chunked body: no CRLF after a chunk");
    }
    return;
  }
  if (!line->empty()) {
    return fail(400, "malformed chunked body: no CRLF after a chunk");
  }
  m_phase = Phase::chunk_size;
  return;
}

void HttpRequestReader::parse_trailer()
{
  while (true) {
    const auto line = next_line();
    if (!line) {
      if (m_trailer_bytes + (m_buffer.size() - m_offset) > m_limits.max_head_bytes) {
        fail(431, "the chunked body's trailer fields are too large");
      }
      return;
    }
    m_trailer_bytes += line->size() + 1;
    if (m_trailer_bytes > m_limits.max_head_bytes) {
      return fail(431, "the chunked body's trailer fields are too large");
    }
    if (line->empty()) {
      m_phase = Phase::complete;
      return;
    }
    // Trailer fields are read and dropped: no header the CAS uses may come after the body.
  }
}

std::string_view reason_phrase(int status)
{
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace sconectl::cas::server
