// The HTTP/1.1 writer and reader that the Docker Engine socket and the simulation runtime share:
// every way an answer's end is known, answers in any split, and what a broken answer is called.

#include "broken_http_answers.hpp"
#include "sconectl/util/http1.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace sconectl::http1 {
namespace {

// Hands out `bytes` `piece` bytes at a time, then reports a close (or `error`, when given).
Receive scripted(const std::string& bytes, std::size_t piece, std::string error = {})
{
  auto at = std::make_shared<std::size_t>(0);
  return [bytes, piece, error, at](char* into,
                                   std::size_t capacity) -> tl::expected<std::size_t, std::string> {
    if (*at == bytes.size()) {
      if (!error.empty()) {
        return tl::unexpected(error);
      }
      return 0;
    }
    const auto count = std::min({piece, capacity, bytes.size() - *at});
    std::memcpy(into, bytes.data() + *at, count);
    *at += count;
    return count;
  };
}

TEST(Http1, ARequestHasItsHostHeadersAndALengthWhenItHasABody)
{
  EXPECT_EQ(format_request(get_request("/v1/version", {{"X-Registry-Auth", "e30"}}), "docker"),
            "GET /v1/version HTTP/1.1\r\nHost: docker\r\nX-Registry-Auth: e30\r\n\r\n");
  EXPECT_EQ(format_request({.method = "POST",
                            .target = "/v1/attestation",
                            .content_type = "application/json",
                            .body = "{}"},
                           "cas:8081"),
            "POST /v1/attestation HTTP/1.1\r\nHost: cas:8081\r\nContent-Type: "
            "application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(format_request({.method = "POST", .target = "/x"}, "h"),
            "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
}

TEST(Http1, EveryWayAnAnswersEndIsKnownInAnySplit)
{
  struct Case {
    std::string bytes;
    long status;
    std::string body;
    bool keep_open;
  };
  const std::vector<Case> cases{
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", true},
      {"HTTP/1.1 200 OK\r\ncontent-length:   5\r\nConnection: close\r\n\r\nhello",
       200,
       "hello",
       false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
       200,
       "hello world",
       true},
      {"HTTP/1.0 200 OK\r\n\r\nto the end", 200, "to the end", false},
      {"HTTP/1.1 204 No Content\r\n\r\n", 204, "", true},
      {"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", 404, "{}", true},
  };
  for (const auto& test : cases) {
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
      const auto answer = read_response(scripted(test.bytes, piece));
      ASSERT_TRUE(answer) << test.bytes << " in pieces of " << piece << ": "
                          << answer.error().message;
      EXPECT_EQ(answer->response.status, test.status) << test.bytes;
      EXPECT_EQ(answer->response.body, test.body) << test.bytes;
      EXPECT_EQ(answer->keep_open, test.keep_open) << test.bytes;
    }
  }
}

TEST(Http1, AnAnswerToHeadHasNoBodyWhateverItsLength)
{
  const auto answer =
      read_response(scripted("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 30\r\n\r\n", 4),
                    {},
                    /*head=*/true);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->response.status, 405);
  EXPECT_TRUE(answer->response.body.empty());
}

TEST(Http1, BrokenAnswersAreNamed)
{
  // And two that pass only these limits (64 header bytes, 1024 body bytes).
  auto cases = sconectl::testing::broken_http_answers();
  cases.emplace_back("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", "too large");
  cases.emplace_back("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'), "header is too long");
  for (const auto& [bytes, message] : cases) {
    const auto answer =
        read_response(scripted(bytes, 3), {.max_header_bytes = 64, .max_body_bytes = 1024});
    ASSERT_FALSE(answer) << bytes;
    EXPECT_NE(answer.error().message.find(message), std::string::npos)
        << bytes << ": " << answer.error().message;
    EXPECT_FALSE(answer.error().before_any_byte) << bytes;
  }
}

// A kept connection that the peer closed before answering is worth one retry; one that broke
// mid-answer is not, and the transport's own reason is kept.
TEST(Http1, ACloseBeforeAnyByteIsToldApart)
{
  const auto closed = read_response(scripted("", 1));
  ASSERT_FALSE(closed);
  EXPECT_TRUE(closed.error().before_any_byte);
  const auto timed_out = read_response(scripted("HTTP/1.1 200", 4, "it did not answer in time"));
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().message, "it did not answer in time");
  EXPECT_FALSE(timed_out.error().before_any_byte);
  // An answer that ends with the connection is whole only when the peer closed it: a transport's
  // failure is never taken for the end, whatever its message says.
  const auto broken =
      read_response(scripted("HTTP/1.0 200 OK\r\n\r\npartial", 4, "it closed the connection"));
  ASSERT_FALSE(broken) << broken->response.body;
}

}  // namespace
}  // namespace sconectl::http1
