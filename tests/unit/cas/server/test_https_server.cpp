#include "cas_fixture.hpp"
#include "running_cas.hpp"
#include "sconectl/cas/identity.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/runtime/cas_channel.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::cas::testing {
namespace {

namespace stdfs = std::filesystem;

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    m_options = LocalCasOptions{.listen = "127.0.0.1:0", .data_dir = m_dir.path() / "cas"};
    auto identity = create_identity({.common_name = "test client"});
    ASSERT_TRUE(identity);
    m_client_key_hash = *key_hash_of_certificate(identity->certificate_pem);
    m_certificate = m_dir.write("client.crt", identity->certificate_pem);
    m_key = m_dir.write("client.key", identity->private_key_pem);
  }

  // A client that pins the CAS certificate, with or without a client certificate.
  std::unique_ptr<httplib::SSLClient> client(const RunningCas& cas, bool with_certificate)
  {
    auto https = with_certificate ? std::make_unique<httplib::SSLClient>(
                     "127.0.0.1", cas.port(), m_certificate, m_key)
                                  : std::make_unique<httplib::SSLClient>("127.0.0.1", cas.port());
    https->set_ca_cert_path(cas.endpoint().certificate.c_str());
    https->enable_server_certificate_verification(true);
    return https;
  }

  sconectl::testing::TempDir m_dir;
  LocalCasOptions m_options;
  std::string m_client_key_hash;
  stdfs::path m_certificate;
  stdfs::path m_key;
};

TEST_F(HttpsServerTest, ServesTheApiOverMutualTls)
{
  m_options.max_body_bytes = 1024 * 1024;
  RunningCas cas(m_options);
  EXPECT_EQ(cas.endpoint().key_hash.size(), k_key_hash_length);
  EXPECT_TRUE(cas.endpoint().certificate.is_absolute());

  auto alice = client(cas, true);
  const auto created = alice->Post("/v1/sessions", session_yaml("demo"), "application/yaml");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->get_header_value("Content-Type"), "application/json");
  const auto read_back = alice->Get("/v1/sessions/demo");
  ASSERT_TRUE(read_back);
  EXPECT_EQ(read_back->status, 200);
  EXPECT_EQ(nlohmann::json::parse(read_back->body).at("creator"), m_client_key_hash);

  const auto wrong_type = alice->Post("/v1/sessions", session_yaml("other"), "text/plain");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 415);

  auto anonymous = client(cas, false);
  const auto refused = anonymous->Post("/v1/sessions", session_yaml("x"), "application/yaml");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(nlohmann::json::parse(refused->body).at("msg").at(0),
            "uploading a session needs a client certificate");
  const auto version = anonymous->Get("/v1/version");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->status, 200);

  // Still serving, over a new connection, after all of the above.
  const auto again = client(cas, true)->Get("/v1/sessions/demo");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpsServerTest, OversizedBodyIsRefusedAndTheServerKeepsAnswering)
{
  m_options.max_body_bytes = 1024 * 1024;
  RunningCas cas(m_options);
  const std::string huge(2 * 1024 * 1024, 'x');
  const auto too_large = client(cas, true)->Post("/v1/sessions", huge, "application/yaml");
  ASSERT_TRUE(too_large) << httplib::to_string(too_large.error());
  EXPECT_EQ(too_large->status, 413);
  const auto after = client(cas, true)->Get("/v1/version");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpsServerTest, RestartKeepsTheIdentityAndTheSessions)
{
  std::string key_hash;
  {
    RunningCas cas(m_options);
    key_hash = cas.endpoint().key_hash;
    const auto created =
        client(cas, true)->Post("/v1/sessions", session_yaml("demo"), "application/yaml");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201);
  }
  struct stat info {};
  ASSERT_EQ(::stat(m_options.data_dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700U);
  ASSERT_EQ(::stat((m_options.data_dir / "identity.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat((m_options.data_dir / "cas.crt").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644U);

  RunningCas restarted(m_options);
  EXPECT_EQ(restarted.endpoint().key_hash, key_hash);
  const auto read_back = client(restarted, true)->Get("/v1/sessions/demo");
  ASSERT_TRUE(read_back);
  EXPECT_EQ(read_back->status, 200);
}

// Two servers on one port would share its clients: clients pinned to one would fail at random.
TEST_F(HttpsServerTest, ASecondServerCannotTakeABusyPort)
{
  RunningCas cas(m_options);
  auto second_options = m_options;
  second_options.data_dir = m_dir.path() / "second";
  second_options.listen = cas.endpoint().address;
  const auto second = LocalCasServer::start(second_options);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(cas.endpoint().address), std::string::npos)
      << second.error().message;
}

TEST_F(HttpsServerTest, ListenAddressMustBeHostAndPort)
{
  for (const auto* listen : {"localhost", "127.0.0.1:", "127.0.0.1:99999", "::1:0"}) {
    m_options.listen = listen;
    EXPECT_FALSE(LocalCasServer::start(m_options)) << listen;
  }
}

// An unbuffered ostream target that another thread may read while the server writes to it.
class SharedText : public std::streambuf {
 public:
  std::string text()
  {
    std::lock_guard lock(m_mutex);
    return m_text;
  }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override
  {
    std::lock_guard lock(m_mutex);
    m_text.append(data, static_cast<std::size_t>(size));
    return size;
  }
  int_type overflow(int_type c) override
  {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      std::lock_guard lock(m_mutex);
      m_text.push_back(traits_type::to_char_type(c));
    }
    return traits_type::not_eof(c);
  }

 private:
  std::mutex m_mutex;
  std::string m_text;
};

TEST_F(HttpsServerTest, ServeLocalCasPrintsWhereItListensAndStopsOnSigterm)
{
  SharedText text;
  std::ostream out(&text);
  Result<void> served;
  std::thread serving([&] { served = serve_local_cas(m_options, out); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // The server writes each line in pieces: wait for the end of the last line, not its start.
  const auto complete = [](const std::string& now) {
    const auto at = now.find("CAS_CERT=");
    return at != std::string::npos && now.find('\n', at) != std::string::npos;
  };
  while (!complete(text.text()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto printed = text.text();
  ASSERT_TRUE(complete(printed)) << "the server did not start: " << printed;
  ::kill(::getpid(), SIGTERM);
  serving.join();
  EXPECT_TRUE(served) << served.error().describe();
  const auto certificate = stdfs::absolute(m_options.data_dir / "cas.crt").string();
  const auto identity =
      parse_identity(sconectl::testing::read_file(m_options.data_dir / "identity.pem"));
  ASSERT_TRUE(identity);
  const auto key_hash = *key_hash_of_certificate(identity->certificate_pem);
  EXPECT_TRUE(printed.starts_with("CAS_ADDR=127.0.0.1:")) << printed;
  EXPECT_NE(printed.find("\nCAS_KEY=" + key_hash + "\nCAS_CERT=" + certificate + "\n"),
            std::string::npos)
      << printed;
}

// Runtimes starting together connect at once: each connection, on whichever connection thread of
// the CAS takes it, is answered on its own, and the runtime's TLS configuration, built once per
// process, still checks the pin of every connection.
TEST_F(HttpsServerTest, RuntimesConnectingAtOnceAreEachAnsweredAndEachPinIsChecked)
{
  RunningCas cas(m_options);
  const auto& address = cas.endpoint().address;
  constexpr int k_runtimes = 48;
  std::atomic<int> answered = 0;
  std::vector<std::thread> runtimes;
  for (int i = 0; i < k_runtimes; ++i) {
    runtimes.emplace_back([&] {
      auto channel = runtime::connect_pinned(address, cas.endpoint().key_hash);
      if (!channel) {
        ADD_FAILURE() << channel.error().describe();
        return;
      }
      // Two requests on one connection, as runtime::attest sends.
      for (int request = 0; request < 2; ++request) {
        const auto version = (*channel)->send(http1::get_request("/v1/version"));
        if (version && version->status == 200) {
          ++answered;
        }
      }
    });
  }
  for (auto& runtime : runtimes) {
    runtime.join();
  }
  EXPECT_EQ(answered, 2 * k_runtimes);

  auto other = create_identity({.common_name = "another CAS"});
  ASSERT_TRUE(other);
  const auto other_key = key_hash_of_certificate(other->certificate_pem);
  ASSERT_TRUE(other_key);
  const auto refused = runtime::connect_pinned(address, *other_key);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::tls);
  EXPECT_NE(refused.error().message.find("not the pinned SCONE_CAS_KEY"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(runtime::connect_pinned(address, cas.endpoint().key_hash));
}

// No client of the CAS resumes a TLS session, so it issues no session tickets: each would cost
// both sides a serialised, encrypted session per connection.
TEST_F(HttpsServerTest, NoSessionTicketIsIssued)
{
  RunningCas cas(m_options);
  auto client = RawTlsClient::connect(cas.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send("GET /v1/version HTTP/1.1\r\nHost: cas\r\n\r\n"));
  // Tickets come right after the handshake, so an answer read means any would have been too.
  const auto response = client->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(SSL_version(client->ssl()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_SESSION_is_resumable(SSL_get0_session(client->ssl())), 0);
}

}  // namespace
}  // namespace sconectl::cas::testing
