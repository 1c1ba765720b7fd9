#include "data_dir.hpp"
#include "listen_address.hpp"
#include "request_handler.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "stop_on_signal.hpp"
#include "tls_http_server.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include <pthread.h>
#include <signal.h>

namespace sconectl::cas {

namespace {

// Uploads that arrive together are committed together (group commit): leave room for several
// clients at the upload's default concurrency (16) and above.
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
  // No TLS 1.3 session tickets: OpenSSL sends two after every handshake by default, each a
  // serialised and encrypted session that both sides pay for, and no client of this CAS needs to
  // resume (a runtime connects once per start; the CLI keeps its connection alive, and its
  // --new-connection-per-request baseline means a full handshake per request). Every connection
  // makes a full handshake, its client certificate checked anew.
  SSL_CTX_set_num_tickets(&context, 0);
  return use_identity(context, identity)
         && SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION) == 1
         && SSL_CTX_set_session_id_context(
                &context, k_session_context, sizeof k_session_context - 1)
                == 1;
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

void log_request(const server::HttpRequest& request, const server::HttpPeer& peer, int status)
{
  if (request.method.empty()) {
    spdlog::info("request refused while it was read -> {} (from {})", status, peer.address);
    return;
  }
  const auto target = std::string_view(request.target);
  std::string logged(target.substr(0, target.find('?')));
  const auto question = target.find('?');
  auto query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  while (!query.empty()) {
    const auto end = query.find('&');
    if (const auto parameter = query.substr(0, end); parameter.starts_with("hash=")) {
      logged += "?" + std::string(parameter);
      break;
    }
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
  }
  spdlog::info("{} {} -> {} (client {})",
               printable(request.method),
               printable(logged),
               status,
               peer.key_hash ? peer.key_hash->substr(0, 8) + "..." : "without certificate");
}

server::HttpAnswer answer(server::RequestHandler& handler,
                          const server::HttpRequest& request,
                          const server::HttpPeer& peer)
{
  const auto target = std::string_view(request.target);
  const auto question = target.find('?');
  auto reply = handler.handle(server::CasRequest{
      .requester = peer.key_hash,
      .method = request.method,
      .path = std::string(target.substr(0, question)),
      .query = question == std::string_view::npos ? "" : std::string(target.substr(question + 1)),
      .content_type = request.header("content-type"),
      .body = request.body});
  server::HttpAnswer result{.status = reply.status, .body = std::move(reply.body)};
  if (reply.allow) {
    result.headers.emplace_back("Allow", *reply.allow);
  }
  return result;
}

}  // namespace

struct LocalCasServer::State {
  server::DataDir data;
  std::unique_ptr<server::RequestHandler> handler;
  std::unique_ptr<server::TlsHttpServer> https;
  LocalCasEndpoint endpoint;
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
  auto handler = server::RequestHandler::open(data->database, options);
  if (!handler) {
    return forward_error(std::move(handler.error()));
  }
  auto state = std::make_unique<State>();
  state->data = std::move(*data);
  state->handler = std::move(*handler);
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context || !configure_tls(*context, state->data.identity)) {
    return fail(ErrorKind::tls, "cannot set up TLS with the CAS identity");
  }
  server::ServerLimits limits{
      .http = {.max_body_bytes = options.max_body_bytes},
      // --header-timeout bounds each phase: the handshake, then the request's header fields.
      .handshake_timeout = options.header_timeout,
      .header_timeout = options.header_timeout,
      .body_timeout = options.body_timeout,
      .max_connections = options.max_connections,
      .max_connections_per_source = options.max_connections_per_source,
      .worker_threads = k_worker_threads,
  };
  auto* handler_of = state->handler.get();
  auto https = server::TlsHttpServer::listen(
      *listen,
      std::move(context),
      limits,
      [handler_of](const server::HttpRequest& request, const server::HttpPeer& peer) {
        return answer(*handler_of, request, peer);
      },
      log_request);
  if (!https) {
    return fail(ErrorKind::network,
                "cannot listen on " + options.listen + " (in use, or not an address of this host)");
  }
  state->https = std::move(*https);
  state->endpoint = LocalCasEndpoint{
      .address = CasAddress{.host = listen->host, .port = state->https->port()}.authority(),
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
  auto served = m_state->https->serve();
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  if (!served) {
    return fail(ErrorKind::network, "the local CAS stopped serving " + m_state->endpoint.address);
  }
  return {};
}

void LocalCasServer::stop()
{
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
