// The local CAS against clients that try to exhaust it or to smuggle past its limits, over real
// TLS on loopback. Every test is bounded: it uses short timeouts and counts.

#include "cas_fixture.hpp"
#include "running_cas.hpp"

#include <atomic>
#include <chrono>
#include <vector>

namespace sconectl::cas::testing {
namespace {

namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class HttpsLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    m_options = LocalCasOptions{.listen = "127.0.0.1:0", .data_dir = m_dir.path() / "cas"};
  }

  sconectl::testing::TempDir m_dir;
  LocalCasOptions m_options;
};

std::string version_request(bool close = false)
{
  return std::string("GET /v1/version HTTP/1.1\r\nHost: cas\r\n")
         + (close ? "Connection: close\r\n" : "") + "\r\n";
}

// 200 clients that send a header line now and then (slowloris) neither delay others nor stay
// connected past the header timeout.
TEST_F(HttpsLimitsTest, SlowClientsDelayNobodyAndAreDisconnected)
{
  m_options.header_timeout = milliseconds(2000);
  RunningCas cas(m_options);
  std::vector<std::unique_ptr<RawTlsClient>> slow;
  for (int i = 0; i < 200; ++i) {
    auto client = RawTlsClient::connect(cas.port());
    ASSERT_TRUE(client) << "slow client " << i << " was not accepted";
    ASSERT_TRUE(client->send("POST /v1/sessions HTTP/1.1\r\n"));
    slow.push_back(std::move(client));
  }
  const auto started = Clock::now();
  std::atomic<bool> done = false;
  std::thread trickle([&] {
    for (int round = 0; !done && round < 40; ++round) {
      for (auto& client : slow) {
        (void)client->send("X-Slow: 1\r\n");
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  milliseconds slowest{0};
  for (int i = 0; i < 20; ++i) {
    const auto asked = Clock::now();
    auto client = RawTlsClient::connect(cas.port());
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->send(version_request(true)));
    const auto response = client->read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    slowest = std::max(slowest, std::chrono::duration_cast<milliseconds>(Clock::now() - asked));
  }
  EXPECT_LT(slowest, milliseconds(1000));
  done = true;
  trickle.join();

  // Each slow client is cut off once its header time is up, not before.
  for (auto& client : slow) {
    client->set_timeout(milliseconds(5000));
    EXPECT_TRUE(client->ended_by_server());
  }
  const auto lasted = Clock::now() - started;
  EXPECT_GE(lasted, milliseconds(1500));
  EXPECT_LT(lasted, milliseconds(8000));
}

TEST_F(HttpsLimitsTest, AClientThatNeverHandshakesIsDisconnected)
{
  m_options.header_timeout = milliseconds(500);
  RunningCas cas(m_options);
  auto silent = RawTlsClient::connect_tcp(cas.port());
  ASSERT_TRUE(silent);
  silent->set_timeout(milliseconds(5000));
  const auto started = Clock::now();
  EXPECT_TRUE(silent->ended_by_server());
  EXPECT_LT(Clock::now() - started, milliseconds(3000));
}

// The handshake and the header fields have a time limit each: when a burst of clients connects at
// once, handshakes wait for a core, and that wait must not eat the request's time.
TEST_F(HttpsLimitsTest, TheHeaderTimeStartsWhenTheHandshakeEnds)
{
  m_options.header_timeout = milliseconds(1000);
  RunningCas cas(m_options);
  auto client = RawTlsClient::connect_tcp(cas.port());
  ASSERT_TRUE(client);
  std::this_thread::sleep_for(milliseconds(600));
  ASSERT_TRUE(client->handshake());
  std::this_thread::sleep_for(milliseconds(600));
  ASSERT_TRUE(client->send(version_request(true)));
  const auto response = client->read_response();
  ASSERT_TRUE(response) << "closed 1.2 s after the accept, within each phase's 1 s";
  EXPECT_EQ(response->status, 200);

  // Each phase is still bounded: a client that handshakes and then sends nothing is cut off.
  auto idle = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(idle);
  ASSERT_TRUE(idle->send("GET /v1/version HTTP/1.1\r\n"));
  idle->set_timeout(milliseconds(5000));
  const auto started = Clock::now();
  EXPECT_TRUE(idle->ended_by_server());
  EXPECT_LT(Clock::now() - started, milliseconds(3000));
}

TEST_F(HttpsLimitsTest, ABodyThatTrickesInIsCutOffAtTheBodyTimeout)
{
  m_options.body_timeout = milliseconds(500);
  RunningCas cas(m_options);
  auto client = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send(
      "POST /v1/sessions HTTP/1.1\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\n"
      "name: x"));
  client->set_timeout(milliseconds(5000));
  const auto started = Clock::now();
  EXPECT_TRUE(client->ended_by_server());
  EXPECT_LT(Clock::now() - started, milliseconds(3000));
}

TEST_F(HttpsLimitsTest, ConnectionsPerAddressAreLimitedWhileOtherAddressesAreServed)
{
  m_options.max_connections_per_source = 4;
  RunningCas cas(m_options);
  std::vector<std::unique_ptr<RawTlsClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(RawTlsClient::connect(cas.port()));
    ASSERT_TRUE(held.back());
  }
  EXPECT_FALSE(RawTlsClient::connect(cas.port())) << "a fifth connection from 127.0.0.1";

  auto other = RawTlsClient::connect(cas.port(), "127.0.0.2");
  ASSERT_TRUE(other) << "a connection from 127.0.0.2";
  ASSERT_TRUE(other->send(version_request()));
  const auto response = other->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);

  // Held connections still work, and a closed one makes room.
  ASSERT_TRUE(held.front()->send(version_request()));
  ASSERT_TRUE(held.front()->read_response());
  held.pop_back();
  std::unique_ptr<RawTlsClient> again;
  for (int attempt = 0; attempt < 50 && !again; ++attempt) {
    std::this_thread::sleep_for(milliseconds(20));
    again = RawTlsClient::connect(cas.port());
  }
  EXPECT_TRUE(again);
}

TEST_F(HttpsLimitsTest, ChunkedBodiesAreBoundedAfterDechunking)
{
  m_options.max_body_bytes = 64 * 1024;
  RunningCas cas(m_options);
  auto client = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(client);
  std::string request =
      "POST /v1/sessions HTTP/1.1\r\nContent-Type: application/yaml\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk = "400\r\n" + std::string(1024, '#') + "\r\n";
  for (int i = 0; i < 70; ++i) {
    request += chunk;
  }
  (void)client->send(request);
  const auto response = client->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("65536 bytes"), std::string::npos) << response->body;
  EXPECT_TRUE(client->ended_by_server());

  // A chunked body within the limit is read as the same body with a Content-Length would be.
  auto fine = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(fine);
  ASSERT_TRUE(
      fine->send("GET /v1/version HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\n{}\r\n0\r\n\r\n"));
  const auto answered = fine->read_response();
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
}

TEST_F(HttpsLimitsTest, CompressedAndAmbiguouslyFramedBodiesAreRefused)
{
  RunningCas cas(m_options);
  const std::vector<std::pair<std::string, int>> cases = {
      {"POST /v1/sessions HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
       415},
      {"POST /v1/sessions HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400},
      {"POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: x-zip\r\nContent-Length: 4\r\n\r\nabcd",
       400},
      {"POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
  };
  for (const auto& [bytes, status] : cases) {
    auto client = RawTlsClient::connect(cas.port());
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->send(bytes));
    const auto response = client->read_response();
    ASSERT_TRUE(response) << bytes;
    EXPECT_EQ(response->status, status) << bytes;
    EXPECT_NE(response->head.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(nlohmann::json::accept(response->body)) << response->body;
    EXPECT_TRUE(client->ended_by_server());
  }
}

TEST_F(HttpsLimitsTest, PipelinedRequestsAndContinueAreAnsweredInOrder)
{
  RunningCas cas(m_options);
  auto client = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send(version_request() + "GET /v1/nothing-here HTTP/1.1\r\n\r\n"));
  const auto first = client->read_response();
  const auto second = client->read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);

  // An HTTP/1.0 client that asks to keep the connection is told it is kept.
  ASSERT_TRUE(client->send("GET /v1/version HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto old_client = client->read_response();
  ASSERT_TRUE(old_client);
  EXPECT_NE(old_client->head.find("Connection: keep-alive"), std::string::npos) << old_client->head;

  ASSERT_TRUE(
      client->send("POST /v1/sessions HTTP/1.1\r\nContent-Type: application/yaml\r\n"
                   "Expect: 100-continue\r\nContent-Length: 13\r\n\r\n"));
  const auto go_on = client->read_response();
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->status, 100);
  ASSERT_TRUE(client->send("name: example"));
  const auto final_answer = client->read_response();
  ASSERT_TRUE(final_answer);
  EXPECT_EQ(final_answer->status, 401) << "uploads need a client certificate";
}

}  // namespace
}  // namespace sconectl::cas::testing
