#include "broken_http_answers.hpp"
#include "sconectl/image/docker_engine.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace sconectl::image {
namespace {

using sconectl::testing::TempDir;

// A stand-in engine on a unix socket: for each request it reads, it writes the next scripted
// answer; an answer of "" closes the connection instead of answering, and `close_after` closes
// it after the answer.
class ScriptedEngine {
 public:
  struct Answer {
    std::string bytes;
    bool close_after = false;
  };

  ScriptedEngine(std::string path, std::vector<Answer> answers)
      : m_path(std::move(path)), m_answers(std::move(answers))
  {
    m_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, m_path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(m_listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(m_listener, 4), 0);
    m_thread = std::thread([this] { serve(); });
  }
  ScriptedEngine(const ScriptedEngine&) = delete;
  ScriptedEngine& operator=(const ScriptedEngine&) = delete;
  ~ScriptedEngine()
  {
    ::shutdown(m_listener, SHUT_RDWR);
    ::close(m_listener);
    m_thread.join();
  }

  [[nodiscard]] int connections() const { return m_connections; }
  [[nodiscard]] std::vector<std::string> requests() const { return m_requests; }

 private:
  void serve()
  {
    std::size_t next = 0;
    while (next < m_answers.size()) {
      const int fd = ::accept(m_listener, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      ++m_connections;
      std::string received;
      while (next < m_answers.size()) {
        char buffer[4096];
        std::size_t end = std::string::npos;
        while ((end = received.find("\r\n\r\n")) == std::string::npos) {
          const auto got = ::recv(fd, buffer, sizeof buffer, 0);
          if (got <= 0) {
            break;
          }
          received.append(buffer, static_cast<std::size_t>(got));
        }
        if (end == std::string::npos) {
          break;
        }
        m_requests.push_back(received.substr(0, end + 4));
        received.erase(0, end + 4);
        const auto& answer = m_answers[next++];
        if (answer.bytes.empty()) {
          break;
        }
        (void)::send(fd, answer.bytes.data(), answer.bytes.size(), MSG_NOSIGNAL);
        if (answer.close_after) {
          break;
        }
      }
      ::close(fd);
    }
  }

  std::string m_path;
  std::vector<Answer> m_answers;
  int m_listener = -1;
  std::atomic<int> m_connections = 0;
  std::vector<std::string> m_requests;
  std::thread m_thread;
};

std::string with_length(const std::string& body, const std::string& status = "200 OK")
{
  return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(EngineSocketTransport, KeepsOneConnectionForAnswersWithALengthOrInChunks)
{
  TempDir dir;
  const auto socket = (dir.path() / "docker.sock").string();
  std::vector<EngineResponse> responses;
  {
    ScriptedEngine engine(socket,
                          {{with_length(R"({"Version":"28.2.2"})")},
                           {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5\r\n[{\"Id\r\n"
                            "a;ext=1\r\n\":\"sha256\"\r\n"
                            "2\r\n}]\r\n"
                            "0\r\nX-Trailer: yes\r\n\r\n"},
                           {with_length(R"({"message":"No such image: x"})", "404 Not Found")}});
    auto transport = unix_socket_transport(socket);
    ASSERT_TRUE(transport);
    for (const char* path : {"/version", "/images/json", "/images/x/json"}) {
      auto response = (*transport)->send(http1::get_request(path, {{"X-Registry-Auth", "eyJ9"}}));
      ASSERT_TRUE(response) << path << ": " << response.error().message;
      responses.push_back(*response);
    }
    EXPECT_EQ(engine.connections(), 1);
    ASSERT_EQ(engine.requests().size(), 3U);
    EXPECT_TRUE(engine.requests()[0].starts_with("GET /version HTTP/1.1\r\nHost: docker\r\n"));
    EXPECT_NE(engine.requests()[0].find("\r\nX-Registry-Auth: eyJ9\r\n"), std::string::npos);
  }
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, R"({"Version":"28.2.2"})");
  EXPECT_EQ(responses[1].body, R"([{"Id":"sha256"}])");
  EXPECT_EQ(responses[2].status, 404);
  EXPECT_EQ(responses[2].body, R"({"message":"No such image: x"})");
}

TEST(EngineSocketTransport, ReadsAnAnswerThatEndsWithTheConnectionAndReconnects)
{
  TempDir dir;
  const auto socket = (dir.path() / "docker.sock").string();
  ScriptedEngine engine(socket,
                        {{"HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", true},
                         {with_length("{}") /* on a new connection */},
                         {"" /* closes the kept connection without answering */},
                         {with_length("[]")}});
  auto transport = unix_socket_transport(socket);
  ASSERT_TRUE(transport);
  auto first = (*transport)->send(http1::get_request("/a"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->body, "{\"a\":1}");
  auto second = (*transport)->send(http1::get_request("/b"));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->body, "{}");
  auto third = (*transport)->send(http1::get_request("/c"));
  ASSERT_TRUE(third) << "a kept connection the engine closed is retried once: "
                     << third.error().message;
  EXPECT_EQ(third->body, "[]");
  EXPECT_EQ(engine.connections(), 3);
}

TEST(EngineSocketTransport, AnAnswerThatNeverHasABodyDoesNotWaitForOne)
{
  TempDir dir;
  const auto socket = (dir.path() / "docker.sock").string();
  ScriptedEngine engine(socket, {{"HTTP/1.1 204 No Content\r\n\r\n"}, {with_length("{}")}});
  auto transport = unix_socket_transport(socket, {}, std::chrono::seconds(5));
  ASSERT_TRUE(transport);
  auto empty = (*transport)->send(http1::get_request("/_ping"));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");
  auto next = (*transport)->send(http1::get_request("/version"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->body, "{}");
  EXPECT_EQ(engine.connections(), 1);
}

TEST(EngineSocketTransport, RefusesBrokenAnswersWithAnErrorNamingTheSocket)
{
  for (const auto& [answer, expected] : sconectl::testing::broken_http_answers()) {
    TempDir dir;
    const auto socket = (dir.path() / "docker.sock").string();
    ScriptedEngine engine(socket, {{answer, true}});
    auto transport = unix_socket_transport(socket);
    ASSERT_TRUE(transport);
    auto response = (*transport)->send(http1::get_request("/version"));
    ASSERT_FALSE(response) << answer;
    EXPECT_EQ(response.error().kind, ErrorKind::process);
    EXPECT_NE(response.error().message.find(socket), std::string::npos) << response.error().message;
    EXPECT_NE(response.error().message.find(expected), std::string::npos)
        << answer << " -> " << response.error().message;
  }
}

TEST(EngineSocketTransport, GivesUpOnAnEngineThatDoesNotAnswer)
{
  TempDir dir;
  const auto socket = (dir.path() / "docker.sock").string();
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);  // accepted by the kernel, never answered
  auto transport = unix_socket_transport(socket, {}, std::chrono::milliseconds(200));
  ASSERT_TRUE(transport);
  auto response = (*transport)->send(http1::get_request("/version"));
  ::close(listener);
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("did not answer in time"), std::string::npos)
      << response.error().message;
}

TEST(EngineSocketTransport, GivesUpOnAnEngineWhoseQueueOfConnectionsIsFull)
{
  TempDir dir;
  const auto socket = (dir.path() / "docker.sock").string();
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 0), 0);  // never accepts
  std::vector<int> waiting;
  for (int i = 0; i < 4; ++i) {  // fill the queue without blocking
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    waiting.push_back(fd);
  }
  auto transport = unix_socket_transport(socket, {}, std::chrono::milliseconds(200));
  ASSERT_TRUE(transport);
  auto response = (*transport)->send(http1::get_request("/version"));
  for (const int fd : waiting) {
    ::close(fd);
  }
  ::close(listener);
  EXPECT_FALSE(response) << "a connect that waits for a full queue must end";
}

TEST(EngineSocketTransport, AMissingSocketIsAnEngineThatIsNotRunning)
{
  TempDir dir;
  const auto socket = (dir.path() / "absent.sock").string();
  auto transport = unix_socket_transport(socket, "DOCKER_HOST=unix://" + socket);
  ASSERT_TRUE(transport);
  auto response = (*transport)->send(http1::get_request("/version"));
  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("DOCKER_HOST=unix://" + socket), std::string::npos)
      << response.error().message;
}

}  // namespace
}  // namespace sconectl::image
