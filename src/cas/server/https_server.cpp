#include "data_dir.hpp"
#include "listen_address.hpp"
#include "request_handler.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas/local_cas.hpp"
#include "stop_on_signal.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

namespace sconectl::cas {

namespace {

constexpr time_t k_io_timeout_seconds = 10;
// The client sends every session of a mesh over one connection.
constexpr std::size_t k_keep_alive_requests = 100000;
// A kept-alive connection holds a worker thread until it closes or idles out, so a client with
// more connections than workers waits seconds for one: leave room for several clients at the
// upload's default concurrency (8) and above.
constexpr std::size_t k_worker_threads = 64;

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* pointer) const
  {
    Free(pointer);
  }
};

bool use_identity(SSL_CTX& context, const TlsIdentity& identity)
{
  std::unique_ptr<BIO, Deleter<BIO_free>> key_text(BIO_new_mem_buf(
      identity.private_key_pem.data(), static_cast<int>(identity.private_key_pem.size())));
  std::unique_ptr<BIO, Deleter<BIO_free>> certificate_text(BIO_new_mem_buf(
      identity.certificate_pem.data(), static_cast<int>(identity.certificate_pem.size())));
  std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>> key(
      PEM_read_bio_PrivateKey(key_text.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<X509, Deleter<X509_free>> certificate(
      PEM_read_bio_X509(certificate_text.get(), nullptr, nullptr, nullptr));
  return key && certificate && SSL_CTX_use_certificate(&context, certificate.get()) == 1
         && SSL_CTX_use_PrivateKey(&context, key.get()) == 1
         && SSL_CTX_check_private_key(&context) == 1;
}

// Client certificates are requested but not required, and any is accepted at the TLS level:
// authorisation is by key hash, per session, and /v1/values is public.
int accept_any_certificate(int /*preverified*/, X509_STORE_CTX* /*context*/)
{
  return 1;
}

bool configure_tls(SSL_CTX& context, const TlsIdentity& identity)
{
  static constexpr unsigned char k_session_context[] = "sconectl-local-cas";
  SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, accept_any_certificate);
  SSL_CTX_set_options(&context, SSL_OP_NO_RENEGOTIATION);
  return use_identity(context, identity)
         && SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) == 1
         && SSL_CTX_set_session_id_context(
                &context, k_session_context, sizeof k_session_context - 1)
                == 1;
}

std::optional<std::string> key_hash_of_peer(const SSL* ssl)
{
  X509* certificate = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  EVP_PKEY* key = certificate != nullptr ? X509_get0_pubkey(certificate) : nullptr;
  unsigned char* der = nullptr;
  const int length = key != nullptr ? i2d_PUBKEY(key, &der) : 0;
  if (length <= 0) {
    return std::nullopt;
  }
  std::string hash =
      key_hash_of_spki(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return hash;
}

void free_key_hash(void* /*parent*/,
                   void* pointer,
                   CRYPTO_EX_DATA* /*data*/,
                   int /*index*/,
                   long /*argl*/,
                   void* /*argp*/)
{
  delete static_cast<std::optional<std::string>*>(pointer);
}

// The client's key hash is worked out once per connection (encoding the key costs more than
// answering a read): the peer certificate cannot change, as renegotiation is off.
std::optional<std::string> requester_of(const httplib::Request& request)
{
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_key_hash);
  // httplib hands out the connection as const; its ex_data is ours to use.
  SSL* ssl = const_cast<SSL*>(request.ssl);
  if (ssl == nullptr || index < 0) {
    return key_hash_of_peer(ssl);
  }
  if (auto* known = static_cast<std::optional<std::string>*>(SSL_get_ex_data(ssl, index))) {
    return *known;
  }
  auto hash = std::make_unique<std::optional<std::string>>(key_hash_of_peer(ssl));
  auto result = *hash;
  if (SSL_set_ex_data(ssl, index, hash.get()) == 1) {
    (void)hash.release();
  }
  return result;
}

// The request line as logged: method and path, at most the `hash` of the query, no bodies.
std::string printable(std::string_view text)
{
  constexpr std::size_t k_shown = 200;
  std::string shown(text.substr(0, k_shown));
  for (auto& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      c = '?';
    }
  }
  return shown + (text.size() > k_shown ? "..." : "");
}

void log_request(const httplib::Request& request, const httplib::Response& response)
{
  const auto requester = requester_of(request);
  const auto target = std::string_view(request.target);
  std::string logged(target.substr(0, target.find('?')));
  if (request.has_param("hash")) {
    logged += "?hash=" + request.get_param_value("hash");
  }
  spdlog::info("{} {} -> {} (client {})",
               printable(request.method),
               printable(logged),
               response.status,
               requester ? requester->substr(0, 8) + "..." : "without certificate");
}

void answer(server::RequestHandler& handler,
            const httplib::Request& request,
            httplib::Response& response)
{
  const auto target = std::string_view(request.target);
  const auto question = target.find('?');
  const auto answer = handler.handle(server::CasRequest{
      .requester = requester_of(request),
      .method = request.method,
      .path = std::string(target.substr(0, question)),
      .query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1)),
      .content_type = request.get_header_value("Content-Type"),
      .body = request.body});
  response.status = answer.status;
  if (answer.allow) {
    response.set_header("Allow", *answer.allow);
  }
  if (request.method != "HEAD") {
    response.set_content(answer.body, "application/json");
  }
}

// httplib's own refusals (413, 400 for a malformed request, 404) get a JSON body too.
httplib::Server::HandlerResponse explain_error(const httplib::Request& /*request*/,
                                               httplib::Response& response)
{
  if (!response.body.empty()) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  std::string message = "the request was refused (HTTP " + std::to_string(response.status) + ")";
  if (response.status == 413) {
    message = "the request body is too large";
  } else if (response.status == 400) {
    message = "malformed HTTP request";
  } else if (response.status == 404) {
    message = "no such endpoint";
  }
  response.set_content(error_body({message}), "application/json");
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

struct LocalCasServer::State {
  server::DataDir data;
  std::unique_ptr<server::RequestHandler> handler;
  std::unique_ptr<httplib::SSLServer> https;
  LocalCasEndpoint endpoint;
  std::atomic<bool> serving = false;
  std::atomic<bool> stop_requested = false;
};

LocalCasServer::LocalCasServer(std::unique_ptr<State> state) : m_state(std::move(state)) {}

LocalCasServer::~LocalCasServer()
{
  stop();
}

Result<std::unique_ptr<LocalCasServer>> LocalCasServer::start(const LocalCasOptions& options)
{
  auto listen = server::parse_listen_address(options.listen);
  if (!listen) {
    return forward_error(std::move(listen.error()));
  }
  auto data = server::prepare_data_dir(options);
  if (!data) {
    return forward_error(std::move(data.error()));
  }
  auto handler = server::RequestHandler::open(data->database, options.batch_reads);
  if (!handler) {
    return forward_error(std::move(handler.error()));
  }
  auto state = std::make_unique<State>();
  state->data = std::move(*data);
  state->handler = std::move(*handler);
  const auto& identity = state->data.identity;
  state->https = std::make_unique<httplib::SSLServer>(
      [&identity](SSL_CTX& context) { return configure_tls(context, identity); });
  if (!state->https->is_valid()) {
    return fail(ErrorKind::tls, "cannot set up TLS with the CAS identity");
  }
  auto& https = *state->https;
  auto* handler_of = state->handler.get();
  const auto route = [handler_of](const httplib::Request& request, httplib::Response& response) {
    answer(*handler_of, request, response);
  };
  https.Get(".*", route).Post(".*", route).Put(".*", route).Patch(".*", route);
  https.Delete(".*", route).Options(".*", route);
  https.set_error_handler(httplib::Server::HandlerWithResponse(explain_error));
  https.set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        response.status = 500;
        response.set_content(error_body({"internal error of the local CAS"}), "application/json");
      });
  https.set_logger(log_request);
  https.set_payload_max_length(options.max_body_bytes);
  https.set_read_timeout(k_io_timeout_seconds, 0);
  https.set_write_timeout(k_io_timeout_seconds, 0);
  https.set_keep_alive_max_count(k_keep_alive_requests);
  https.new_task_queue = [] { return new httplib::ThreadPool(k_worker_threads); };
  // Without it, Nagle's algorithm holds the answer's last segment until the client's delayed
  // ACK (40 ms on Linux): every request on a kept-alive connection would take that long.
  https.set_tcp_nodelay(true);
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which lets a second CAS bind
  // the same port and the kernel split the clients between the two.
  https.set_socket_options([](socket_t socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  const int port = listen->port == 0
                       ? https.bind_to_any_port(listen->host)
                       : (https.bind_to_port(listen->host, listen->port) ? listen->port : -1);
  if (port <= 0) {
    return fail(ErrorKind::network,
                "cannot listen on " + options.listen + " (in use, or not an address of this host)");
  }
  state->endpoint = LocalCasEndpoint{
      .address = CasAddress{.host = listen->host, .port = port}.authority(),
      .key_hash = key_hash_of_certificate(state->data.identity.certificate_pem).value_or(""),
      .certificate = state->data.certificate};
  return std::unique_ptr<LocalCasServer>(new LocalCasServer(std::move(state)));
}

const LocalCasEndpoint& LocalCasServer::endpoint() const
{
  return m_state->endpoint;
}

Result<void> LocalCasServer::serve()
{
  // A client that hangs up mid-answer must not kill the process with SIGPIPE: block it on this
  // thread, and so on the worker threads the server starts from it (writes then fail with EPIPE).
  sigset_t pipe_signal;
  sigset_t previous_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous_mask);
  m_state->serving = true;
  const bool served = m_state->stop_requested || m_state->https->listen_after_bind();
  m_state->serving = false;
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  if (!served) {
    return fail(ErrorKind::network, "the local CAS stopped serving " + m_state->endpoint.address);
  }
  return {};
}

void LocalCasServer::stop()
{
  m_state->stop_requested = true;
  // serve() may be about to start listening: wait until it does, or has returned.
  while (m_state->serving && !m_state->https->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  m_state->https->stop();
}

Result<void> serve_local_cas(const LocalCasOptions& options, std::ostream& out)
{
  auto server = LocalCasServer::start(options);
  if (!server) {
    return forward_error(std::move(server.error()));
  }
  // Handle signals before announcing the address: a script that read it may stop us at once.
  server::StopOnSignal stopper([&server] { (*server)->stop(); });
  const auto& endpoint = (*server)->endpoint();
  // One write, so that a script polling a log file never reads half of the announcement.
  out << fmt::format("CAS_ADDR={}\nCAS_KEY={}\nCAS_CERT={}\n",
                     endpoint.address,
                     endpoint.key_hash,
                     endpoint.certificate.string())
      << std::flush;
  spdlog::info("local CAS serving on {}, data in {}", endpoint.address, options.data_dir.string());
  return (*server)->serve();
}

}  // namespace sconectl::cas
