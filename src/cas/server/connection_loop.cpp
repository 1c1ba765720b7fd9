#include "connection_loop.hpp"

#include "sconectl/cas/key_hash.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sconectl::cas::server {

namespace {

constexpr std::size_t k_read_chunk = 16 * 1024;
// How often deadlines are checked: the granularity of every timeout.
constexpr auto k_sweep_interval = std::chrono::milliseconds(50);
// After a refusal, what the client still sends is read and dropped for a while before the
// connection is closed: closing with unread bytes makes the kernel send a reset, which can destroy
// the refusal before the client reads it.
constexpr auto k_drain_time = std::chrono::milliseconds(1000);
constexpr std::size_t k_drain_bytes = 4 * 1024 * 1024;
std::string address_of(const sockaddr_storage& address)
{
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  }
  return text;
}

std::optional<std::string> key_hash_of_peer(SSL* ssl)
{
  X509* certificate = SSL_get0_peer_certificate(ssl);
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

}  // namespace

Result<void> TlsHttpServer::Impl::Loop::open()
{
  epoll = epoll_create1(EPOLL_CLOEXEC);
  wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll < 0 || wake < 0) {
    return fail(ErrorKind::io,
                std::string("cannot set up the connection loop: ") + strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = UINT64_MAX;
  epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event);
  listen_again();
  return {};
}

// Every loop waits on the one listening socket; EPOLLEXCLUSIVE wakes one of those waiting for a
// new connection instead of all of them, so the first idle loop takes it.
void TlsHttpServer::Impl::Loop::listen_again()
{
  epoll_event event{};
  event.events = EPOLLIN | EPOLLEXCLUSIVE;
  event.data.u64 = 0;  // connections count from 1
  listening = epoll_ctl(epoll, EPOLL_CTL_ADD, server.listener, &event) == 0;
  if (!listening && errno == EINVAL) {
    // A kernel before Linux 4.5 has no EPOLLEXCLUSIVE: every loop wakes, one accepts.
    event.events = EPOLLIN;
    listening = epoll_ctl(epoll, EPOLL_CTL_ADD, server.listener, &event) == 0;
  }
}

void TlsHttpServer::Impl::Loop::wake_up() const
{
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto woken = ::write(wake, &one, sizeof one);
}

void TlsHttpServer::Impl::Loop::answer(Done result)
{
  {
    std::lock_guard lock(done_mutex);
    done.push_back(std::move(result));
  }
  wake_up();
}

void TlsHttpServer::Impl::Loop::watch(Connection& connection, std::uint32_t events)
{
  if (connection.interest == events) {
    return;
  }
  epoll_event event{};
  event.events = events;
  event.data.u64 = connection.id;
  epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, &event);
  connection.interest = events;
}

void TlsHttpServer::Impl::Loop::close_connection(Connection& connection)
{
  epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, nullptr);
  SSL_free(connection.ssl);
  ::close(connection.fd);
  server.release(connection.source);
  connections.erase(connection.id);
}

// Accepts a bounded number of connections per wake-up: each starts a handshake at once, and a
// loop that took a whole burst in one go would leave its other connections waiting meanwhile.
// The listening socket stays readable while more wait, so the loop comes back for them.
void TlsHttpServer::Impl::Loop::accept_some()
{
  constexpr int k_accepts_per_wake = 16;
  for (int accepted = 0; accepted < k_accepts_per_wake; ++accepted) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = accept4(server.listener,
                           reinterpret_cast<sockaddr*>(&address),
                           &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop accepting until a sweep, instead of spinning on the queue.
        epoll_ctl(epoll, EPOLL_CTL_DEL, server.listener, nullptr);
        listening = false;
        server.note_refused("?", "no file descriptors left");
      }
      return;
    }
    auto source = address_of(address);
    if (const auto refused = server.admit(source)) {
      ::close(fd);
      server.note_refused(source, *refused);
      continue;
    }
    SSL* ssl = SSL_new(server.context.get());
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
      SSL_free(ssl);
      ::close(fd);
      server.release(source);
      continue;
    }
    SSL_set_accept_state(ssl);
    const int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto connection = std::make_unique<Connection>(limits.http);
    connection->fd = fd;
    connection->ssl = ssl;
    connection->id = next_id++;
    connection->source = source;
    connection->peer.address = std::move(source);
    connection->deadline = Clock::now() + limits.handshake_timeout;
    connection->interest = EPOLLIN;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = connection->id;
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    auto& kept = *connection;
    connections.emplace(kept.id, std::move(connection));
    handshake(kept);
  }
}

// Waits for the socket as OpenSSL asks, or closes the connection on any other outcome.
// Returns false when the connection is gone.
bool TlsHttpServer::Impl::Loop::wait_or_close(Connection& connection, int result)
{
  switch (SSL_get_error(connection.ssl, result)) {
    case SSL_ERROR_WANT_READ:
      watch(connection, EPOLLIN);
      return true;
    case SSL_ERROR_WANT_WRITE:
      watch(connection, EPOLLOUT);
      return true;
    default:
      ERR_clear_error();
      close_connection(connection);
      return false;
  }
}

void TlsHttpServer::Impl::Loop::handshake(Connection& connection)
{
  const int result = SSL_do_handshake(connection.ssl);
  if (result != 1) {
    wait_or_close(connection, result);
    return;
  }
  connection.peer.key_hash = key_hash_of_peer(connection.ssl);
  connection.phase = Connection::Phase::reading;
  connection.deadline = Clock::now() + limits.header_timeout;
  read(connection);
}

void TlsHttpServer::Impl::Loop::read(Connection& connection)
{
  char buffer[k_read_chunk];
  while (true) {
    const int result = SSL_read(connection.ssl, buffer, sizeof buffer);
    if (result <= 0) {
      wait_or_close(connection, result);
      return;
    }
    if (!connection.reader.started()) {
      connection.deadline = Clock::now() + limits.header_timeout;
    }
    const auto progress =
        connection.reader.feed(std::string_view(buffer, static_cast<std::size_t>(result)));
    if (!after_feed(connection, progress)) {
      return;
    }
  }
}

// Acts on what the reader made of the bytes so far; false when reading must stop.
bool TlsHttpServer::Impl::Loop::after_feed(Connection& connection,
                                           HttpRequestReader::Progress progress)
{
  using Progress = HttpRequestReader::Progress;
  if (progress == Progress::failed) {
    refuse(connection);
    return false;
  }
  if (progress == Progress::complete) {
    dispatch(connection);
    return false;
  }
  if (!connection.head_seen && connection.reader.head_complete()) {
    connection.head_seen = true;
    connection.deadline = Clock::now() + limits.body_timeout;
  }
  if (connection.reader.wants_continue()) {
    connection.reader.continue_sent();
    write(connection, "HTTP/1.1 100 Continue\r\n\r\n", Connection::AfterWrite::read_body);
    return false;
  }
  return true;
}

void TlsHttpServer::Impl::Loop::refuse(Connection& connection)
{
  const auto& reader = connection.reader;
  HttpAnswer answer{.status = reader.error_status(), .body = error_body({reader.error_message()})};
  server.logger(HttpRequest{}, connection.peer, answer.status);
  write(connection, format_answer(answer, false, true), Connection::AfterWrite::close);
}

void TlsHttpServer::Impl::Loop::dispatch(Connection& connection)
{
  connection.phase = Connection::Phase::processing;
  connection.head_seen = false;
  // Nothing to read until the answer is written; one-shot, so that a hang-up is reported once
  // instead of waking the loop until the worker is done.
  watch(connection, EPOLLONESHOT);
  server.submit(Job{.loop = this,
                    .connection = connection.id,
                    .request = connection.reader.take(),
                    .peer = connection.peer});
}

void TlsHttpServer::Impl::Loop::write(Connection& connection,
                                      std::string bytes,
                                      Connection::AfterWrite after)
{
  connection.phase = Connection::Phase::writing;
  connection.out = std::move(bytes);
  connection.written = 0;
  connection.after_write = after;
  connection.deadline = Clock::now() + limits.write_timeout;
  flush(connection);
}

void TlsHttpServer::Impl::Loop::flush(Connection& connection)
{
  while (connection.written < connection.out.size()) {
    const auto left = connection.out.size() - connection.written;
    const int result = SSL_write(connection.ssl,
                                 connection.out.data() + connection.written,
                                 static_cast<int>(std::min<std::size_t>(left, 1 << 20)));
    if (result <= 0) {
      wait_or_close(connection, result);
      return;
    }
    connection.written += static_cast<std::size_t>(result);
  }
  connection.out.clear();
  connection.written = 0;
  switch (connection.after_write) {
    case Connection::AfterWrite::close:
      SSL_shutdown(connection.ssl);
      ::shutdown(connection.fd, SHUT_WR);
      connection.phase = Connection::Phase::draining;
      connection.deadline = Clock::now() + k_drain_time;
      watch(connection, EPOLLIN);
      drain(connection);
      return;
    case Connection::AfterWrite::read_body:
      connection.phase = Connection::Phase::reading;
      connection.deadline = Clock::now() + limits.body_timeout;
      watch(connection, EPOLLIN);
      read(connection);
      return;
    case Connection::AfterWrite::next_request:
      connection.phase = Connection::Phase::reading;
      connection.deadline =
          Clock::now()
          + (connection.reader.started() ? limits.header_timeout : limits.idle_timeout);
      watch(connection, EPOLLIN);
      // A pipelined request may already be buffered, here or inside OpenSSL.
      if (after_feed(connection, connection.reader.feed({}))) {
        read(connection);
      }
      return;
  }
}

// Reads and drops what the client sends after a refusal, until it closes, the time is up or
// enough was dropped.
void TlsHttpServer::Impl::Loop::drain(Connection& connection)
{
  char buffer[k_read_chunk];
  while (true) {
    const auto got = ::recv(connection.fd, buffer, sizeof buffer, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    if (got <= 0) {
      close_connection(connection);
      return;
    }
    connection.drained += static_cast<std::size_t>(got);
    if (connection.drained > k_drain_bytes) {
      close_connection(connection);
      return;
    }
  }
}

void TlsHttpServer::Impl::Loop::on_event(std::uint64_t id)
{
  const auto found = connections.find(id);
  if (found == connections.end()) {
    return;
  }
  auto& connection = *found->second;
  switch (connection.phase) {
    case Connection::Phase::handshake:
      handshake(connection);
      break;
    case Connection::Phase::reading:
      read(connection);
      break;
    case Connection::Phase::writing:
      flush(connection);
      break;
    case Connection::Phase::processing:
      break;  // a hang-up shows when the answer is written
    case Connection::Phase::draining:
      drain(connection);
      break;
  }
}

void TlsHttpServer::Impl::Loop::collect_answers()
{
  std::uint64_t count = 0;
  [[maybe_unused]] const auto drained = ::read(wake, &count, sizeof count);
  std::vector<Done> answers;
  {
    std::lock_guard lock(done_mutex);
    answers.swap(done);
  }
  for (auto& answer : answers) {
    const auto found = connections.find(answer.connection);
    if (found == connections.end()) {
      continue;
    }
    write(*found->second,
          std::move(answer.bytes),
          answer.close ? Connection::AfterWrite::close : Connection::AfterWrite::next_request);
  }
}

void TlsHttpServer::Impl::Loop::sweep()
{
  const auto now = Clock::now();
  std::vector<Connection*> expired;
  for (auto& [id, connection] : connections) {
    if (connection->phase != Connection::Phase::processing && connection->deadline <= now) {
      expired.push_back(connection.get());
    }
  }
  for (auto* connection : expired) {
    spdlog::debug("local CAS: closed a connection from {} that ran out of time",
                  connection->source);
    close_connection(*connection);
  }
  if (!listening && server.has_room()) {
    listen_again();
  }
}

void TlsHttpServer::Impl::Loop::run()
{
  auto last_sweep = Clock::now();
  epoll_event events[256];
  while (!server.stop_requested) {
    const int count = epoll_wait(epoll, events, 256, static_cast<int>(k_sweep_interval.count()));
    if (count < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < count; ++i) {
      const auto id = events[i].data.u64;
      if (id == 0) {
        accept_some();
      } else if (id == UINT64_MAX) {
        collect_answers();
      } else {
        on_event(id);
      }
    }
    if (Clock::now() - last_sweep >= k_sweep_interval) {
      sweep();
      last_sweep = Clock::now();
    }
  }
}

void TlsHttpServer::Impl::Loop::close_all()
{
  while (!connections.empty()) {
    close_connection(*connections.begin()->second);
  }
  std::lock_guard lock(done_mutex);
  done.clear();
}

}  // namespace sconectl::cas::server
