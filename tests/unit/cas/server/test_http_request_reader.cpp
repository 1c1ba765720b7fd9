#include "http_request_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sconectl::cas::server {
namespace {

using Progress = HttpRequestReader::Progress;

struct Outcome {
  Progress progress = Progress::need_more;
  std::vector<HttpRequest> requests;
  int status = 0;
  std::string message;
};

// Feeds `bytes` in pieces of `piece` bytes and collects every complete request.
Outcome read_all(const std::string& bytes, std::size_t piece, HttpLimits limits = {})
{
  HttpRequestReader reader(limits);
  Outcome outcome;
  for (std::size_t at = 0; at < bytes.size() || outcome.progress == Progress::complete;) {
    std::string_view chunk;
    if (outcome.progress != Progress::complete) {
      chunk = std::string_view(bytes).substr(at, piece);
      at += chunk.size();
    }
    outcome.progress = reader.feed(chunk);
    if (outcome.progress == Progress::complete) {
      outcome.requests.push_back(reader.take());
    } else if (outcome.progress == Progress::failed) {
      outcome.status = reader.error_status();
      outcome.message = reader.error_message();
      return outcome;
    }
  }
  return outcome;
}

Outcome read_whole(const std::string& bytes, HttpLimits limits = {})
{
  return read_all(bytes, bytes.size() + 1, limits);
}

TEST(HttpRequestReader, ReadsARequestWithABodyHoweverTheBytesArrive)
{
  const std::string bytes =
      "POST /v1/sessions?x=1 HTTP/1.1\r\nHost: cas\r\nContent-Type: application/yaml\r\n"
      "Content-Length: 11\r\n\r\nname: hello";
  for (std::size_t piece : {1U, 2U, 3U, 7U, 64U, 4096U}) {
    const auto outcome = read_all(bytes, piece);
    ASSERT_EQ(outcome.requests.size(), 1U) << piece;
    const auto& request = outcome.requests.front();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/v1/sessions?x=1");
    EXPECT_EQ(request.header("content-type"), "application/yaml");
    EXPECT_EQ(request.body, "name: hello");
    EXPECT_TRUE(request.keep_alive);
  }
}

TEST(HttpRequestReader, ReadsPipelinedRequestsOneAfterAnother)
{
  const std::string bytes =
      "GET /v1/version HTTP/1.1\r\n\r\n"
      "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
      "GET /c HTTP/1.1\nConnection: close\n\n";
  for (std::size_t piece : {1U, 5U, 1000U}) {
    const auto outcome = read_all(bytes, piece);
    ASSERT_EQ(outcome.requests.size(), 4U) << piece;
    EXPECT_EQ(outcome.requests[0].target, "/v1/version");
    EXPECT_EQ(outcome.requests[1].body, "abc");
    EXPECT_EQ(outcome.requests[2].body, "xy");
    EXPECT_EQ(outcome.requests[3].target, "/c");
    EXPECT_FALSE(outcome.requests[3].keep_alive);
  }
}

TEST(HttpRequestReader, DecodesChunkedBodiesWithExtensionsAndTrailers)
{
  const std::string bytes =
      "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (std::size_t piece : {1U, 3U, 4096U}) {
    const auto outcome = read_all(bytes, piece);
    ASSERT_EQ(outcome.requests.size(), 1U) << outcome.message;
    EXPECT_EQ(outcome.requests.front().body, "hello 0123456789");
  }
}

TEST(HttpRequestReader, TheBodyLimitHoldsAfterDechunkingWithoutReadingTheRest)
{
  const HttpLimits limits{.max_body_bytes = 100};
  std::string chunked = "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) {
    chunked += "a\r\n0123456789\r\n";
  }
  chunked += "0\r\n\r\n";
  const auto refused = read_all(chunked, 16, limits);
  EXPECT_EQ(refused.status, 413);
  EXPECT_NE(refused.message.find("100 bytes"), std::string::npos) << refused.message;

  // One chunk announced larger than the limit is refused before any of its bytes arrive.
  const auto announced =
      read_whole("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1312D00\r\n", limits);
  EXPECT_EQ(announced.status, 413);
  // So is a chunk size that would overflow 64 bits.
  const auto overflow = read_whole(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\n", limits);
  EXPECT_EQ(overflow.status, 413);
  // And a Content-Length larger than the limit, before the body.
  const auto length = read_whole("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits);
  EXPECT_EQ(length.status, 413);
  // Exactly the limit is fine.
  const auto fits =
      read_whole("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'), limits);
  ASSERT_EQ(fits.requests.size(), 1U);
}

TEST(HttpRequestReader, CompressedBodiesAreRefused)
{
  const auto gzip = read_whole(
      "POST /v1/sessions HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(gzip.status, 415);
  EXPECT_NE(gzip.message.find("Content-Encoding gzip"), std::string::npos) << gzip.message;
  const auto identity = read_whole(
      "POST /v1/sessions HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(identity.requests.size(), 1U);
  // A compressed transfer coding is not understood at all.
  const auto coded = read_whole("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  EXPECT_EQ(coded.status, 501);
}

TEST(HttpRequestReader, AmbiguousFramingIsRefused)
{
  const auto two_lengths =
      read_whole("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_EQ(two_lengths.status, 400);
  EXPECT_NE(two_lengths.message.find("conflicting Content-Length"), std::string::npos);
  const auto listed = read_whole("POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd");
  EXPECT_EQ(listed.status, 400);
  // The same length twice is one length (RFC 9110, 8.6).
  const auto same =
      read_whole("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(same.requests.size(), 1U);
  EXPECT_EQ(same.requests.front().body, "abc");

  const auto both = read_whole(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "3\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(both.status, 400);
  const auto unknown_and_length =
      read_whole("POST / HTTP/1.1\r\nTransfer-Encoding: x-custom\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(unknown_and_length.status, 400);

  for (const auto* length : {"-1", "+3", "3a", "", "0x3", "99999999999999999999999"}) {
    const auto bad =
        read_whole(std::string("POST / HTTP/1.1\r\nContent-Length: ") + length + "\r\n\r\nabc");
    EXPECT_EQ(bad.status, 400) << length;
  }
}

TEST(HttpRequestReader, MalformedHeadsAreRefused)
{
  const std::vector<std::pair<std::string, int>> cases = {
      {"GET\r\n\r\n", 400},
      {"GET /\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / FTP/1.0\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET /a b HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: x\ry\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx", 417},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
  };
  for (const auto& [bytes, status] : cases) {
    EXPECT_EQ(read_whole(bytes).status, status) << bytes;
    EXPECT_EQ(read_all(bytes, 1).status, status) << bytes;
  }
}

TEST(HttpRequestReader, HeadSizeAndFieldCountAreBounded)
{
  const HttpLimits limits{.max_head_bytes = 1024, .max_header_fields = 10};
  const auto long_line =
      read_all("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n", 100, limits);
  EXPECT_EQ(long_line.status, 431);
  // Refused as soon as the limit is passed, without a line end ever arriving.
  HttpRequestReader endless(limits);
  EXPECT_EQ(endless.feed("GET / HTTP/1.1\r\nX: " + std::string(1100, 'a')), Progress::failed);
  EXPECT_EQ(endless.error_status(), 431);

  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) {
    many += "X-" + std::to_string(i) + ": 1\r\n";
  }
  EXPECT_EQ(read_whole(many + "\r\n", limits).status, 431);

  // Endless empty lines before a request line count too.
  EXPECT_EQ(read_all(std::string(2000, '\n'), 7, limits).status, 431);
  // So do trailer fields.
  std::string trailer = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 100; ++i) {
    trailer += "X-Trailer: 0123456789\r\n";
  }
  EXPECT_EQ(read_whole(trailer, limits).status, 431);
}

TEST(HttpRequestReader, ConnectionPersistenceFollowsTheVersion)
{
  const auto old = read_whole("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(old.requests.size(), 1U);
  EXPECT_FALSE(old.requests.front().keep_alive);
  EXPECT_TRUE(old.requests.front().http_1_0);
  const auto kept = read_whole("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(kept.requests.front().keep_alive);
  const auto closed = read_whole("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
  EXPECT_FALSE(closed.requests.front().keep_alive);
}

TEST(HttpRequestReader, AsksForContinueOnlyWhileABodyIsDue)
{
  HttpRequestReader reader(HttpLimits{});
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
            Progress::need_more);
  EXPECT_TRUE(reader.wants_continue());
  reader.continue_sent();
  EXPECT_FALSE(reader.wants_continue());
  EXPECT_EQ(reader.feed("ok"), Progress::complete);
  EXPECT_EQ(reader.take().body, "ok");

  // A body that came with the head needs no "100 Continue".
  EXPECT_EQ(reader.feed("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"),
            Progress::complete);
  EXPECT_FALSE(reader.wants_continue());
}

TEST(HttpRequestReader, StartedAndHeadCompleteTrackTheRequest)
{
  HttpRequestReader reader(HttpLimits{});
  EXPECT_FALSE(reader.started());
  EXPECT_EQ(reader.feed("PO"), Progress::need_more);
  EXPECT_TRUE(reader.started());
  EXPECT_FALSE(reader.head_complete());
  EXPECT_EQ(reader.feed("ST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n"), Progress::need_more);
  EXPECT_TRUE(reader.head_complete());
  EXPECT_EQ(reader.feed("x"), Progress::complete);
  (void)reader.take();
  EXPECT_FALSE(reader.started());
}

}  // namespace
}  // namespace sconectl::cas::server
