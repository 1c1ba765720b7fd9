#include "tls_http_server.hpp"

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

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_read_chunk = 16 * 1024;
// Descriptors kept free for the store, logs and the process's own files.
constexpr std::size_t k_reserved_descriptors = 64;
// How often deadlines are checked: the granularity of every timeout.
constexpr auto k_sweep_interval = std::chrono::milliseconds(50);
// After a refusal, what the client still sends is read and dropped for a while before the
// connection is closed: closing with unread bytes makes the kernel send a reset, which can destroy
// the refusal before the client reads it.
constexpr auto k_drain_time = std::chrono::milliseconds(1000);
constexpr std::size_t k_drain_bytes = 4 * 1024 * 1024;
// Connections the kernel completes before the CAS accepts them. When hundreds of clients connect
// in the same instant, a full queue drops their SYNs, and each retries only a second or more
// later. The kernel lowers this to net.core.somaxconn (4096 since Linux 5.4).
constexpr int k_listen_backlog = 65535;
constexpr std::size_t k_max_connection_threads = 16;

std::size_t connection_threads(const ServerLimits& limits)
{
  if (limits.connection_threads > 0) {
    return limits.connection_threads;
  }
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, k_max_connection_threads);
}

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

// The most connections the process can hold open besides what it needs otherwise.
std::size_t descriptor_room()
{
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return SIZE_MAX;
  }
  const auto available = static_cast<std::size_t>(limit.rlim_cur);
  return available > 2 * k_reserved_descriptors ? available - k_reserved_descriptors
                                                : available / 2;
}

struct Connection {
  enum class Phase { handshake, reading, processing, writing, draining };
  enum class AfterWrite { read_body, next_request, close };

  int fd = -1;
  SSL* ssl = nullptr;
  std::uint64_t id = 0;
  std::string source;
  HttpPeer peer;
  HttpRequestReader reader;
  Phase phase = Phase::handshake;
  Clock::time_point deadline;
  bool head_seen = false;
  std::string out;
  std::size_t written = 0;
  AfterWrite after_write = AfterWrite::close;
  std::uint32_t interest = 0;
  std::size_t drained = 0;

  explicit Connection(const HttpLimits& limits) : reader(limits) {}
};

}  // namespace

std::string format_answer(const HttpAnswer& answer, bool head_only, bool close)
{
  std::string bytes = "HTTP/1.1 " + std::to_string(answer.status) + " "
                      + std::string(reason_phrase(answer.status)) + "\r\n";
  bytes += "Content-Type: application/json\r\n";
  bytes += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  for (const auto& [name, value] : answer.headers) {
    bytes += name + ": " + value + "\r\n";
  }
  if (close) {
    bytes += "Connection: close\r\n";
  }
  bytes += "\r\n";
  if (!head_only) {
    bytes += answer.body;
  }
  return bytes;
}

struct TlsHttpServer::Impl {
  struct Loop;

  struct Job {
    Loop* loop = nullptr;
    std::uint64_t connection = 0;
    HttpRequest request;
    HttpPeer peer;
  };

  struct Done {
    std::uint64_t connection = 0;
    std::string bytes;
    bool close = false;
  };

  std::shared_ptr<SSL_CTX> context;
  ServerLimits limits;
  HttpHandler handler;
  HttpLogger logger;
  int listener = -1;
  int port = 0;
  std::size_t max_connections = 0;
  std::atomic<bool> stop_requested = false;
  std::vector<std::unique_ptr<Loop>> loops;

  // The limits on open connections, shared by the connection threads.
  std::mutex admission;
  std::size_t open_connections = 0;
  std::unordered_map<std::string, std::size_t> per_source;
  Clock::time_point refused_logged;
  std::size_t refused_since_log = 0;

  // Requests waiting for a worker.
  std::mutex jobs_mutex;
  std::condition_variable work_ready;
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::vector<std::thread> workers;

  ~Impl()
  {
    if (listener >= 0) {
      ::close(listener);
    }
  }

  // Counts a new connection from `source` in, or says why it is refused.
  std::optional<std::string> admit(const std::string& source)
  {
    std::lock_guard lock(admission);
    if (open_connections >= max_connections) {
      return "too many connections in all (limit " + std::to_string(max_connections) + ")";
    }
    auto& from_source = per_source[source];
    if (from_source >= limits.max_connections_per_source) {
      if (from_source == 0) {
        per_source.erase(source);
      }
      return "too many connections from one address (limit "
             + std::to_string(limits.max_connections_per_source) + ")";
    }
    ++from_source;
    ++open_connections;
    return std::nullopt;
  }

  void release(const std::string& source)
  {
    std::lock_guard lock(admission);
    --open_connections;
    if (auto count = per_source.find(source); count != per_source.end()) {
      if (--count->second == 0) {
        per_source.erase(count);
      }
    }
  }

  bool has_room()
  {
    std::lock_guard lock(admission);
    return open_connections < max_connections;
  }

  // Too many connections: say so in the log at most once a second, with how many.
  void note_refused(const std::string& source, const std::string& why)
  {
    std::lock_guard lock(admission);
    ++refused_since_log;
    const auto now = Clock::now();
    if (now - refused_logged >= std::chrono::seconds(1)) {
      spdlog::warn("local CAS: closed {} new connection(s) at once: {} (latest from {})",
                   refused_since_log,
                   why,
                   source);
      refused_logged = now;
      refused_since_log = 0;
    }
  }

  void submit(Job job)
  {
    {
      std::lock_guard lock(jobs_mutex);
      jobs.push_back(std::move(job));
    }
    work_ready.notify_one();
  }

  void work();
};

// One connection thread: the connections it accepted, from the accept to the close.
struct TlsHttpServer::Impl::Loop {
  Impl& server;
  const ServerLimits& limits;
  int epoll = -1;
  int wake = -1;
  std::thread thread;

  // Owned by this loop's thread.
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  std::uint64_t next_id = 1;
  bool listening = false;

  // Answers from the workers for this loop's connections.
  std::mutex done_mutex;
  std::vector<Done> done;

  explicit Loop(Impl& owner) : server(owner), limits(owner.limits) {}
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop()
  {
    for (int fd : {epoll, wake}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  Result<void> open()
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
  void listen_again()
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

  void wake_up() const
  {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto woken = ::write(wake, &one, sizeof one);
  }

  void answer(Done result)
  {
    {
      std::lock_guard lock(done_mutex);
      done.push_back(std::move(result));
    }
    wake_up();
  }

  void watch(Connection& connection, std::uint32_t events)
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

  void close_connection(Connection& connection)
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
  void accept_some()
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
  bool wait_or_close(Connection& connection, int result)
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

  void handshake(Connection& connection)
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

  void read(Connection& connection)
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
  bool after_feed(Connection& connection, HttpRequestReader::Progress progress)
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

  void refuse(Connection& connection)
  {
    const auto& reader = connection.reader;
    HttpAnswer answer{.status = reader.error_status(),
                      .body = error_body({reader.error_message()})};
    server.logger(HttpRequest{}, connection.peer, answer.status);
    write(connection, format_answer(answer, false, true), Connection::AfterWrite::close);
  }

  void dispatch(Connection& connection)
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

  void write(Connection& connection, std::string bytes, Connection::AfterWrite after)
  {
    connection.phase = Connection::Phase::writing;
    connection.out = std::move(bytes);
    connection.written = 0;
    connection.after_write = after;
    connection.deadline = Clock::now() + limits.write_timeout;
    flush(connection);
  }

  void flush(Connection& connection)
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
  void drain(Connection& connection)
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

  void on_event(std::uint64_t id)
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

  void collect_answers()
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

  void sweep()
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

  void run()
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

  void close_all()
  {
    while (!connections.empty()) {
      close_connection(*connections.begin()->second);
    }
    std::lock_guard lock(done_mutex);
    done.clear();
  }
};

void TlsHttpServer::Impl::work()
{
  while (true) {
    Job job;
    {
      std::unique_lock lock(jobs_mutex);
      work_ready.wait(lock, [this] { return workers_stop || !jobs.empty(); });
      if (workers_stop) {
        return;
      }
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    const auto answer = handler(job.request, job.peer);
    logger(job.request, job.peer, answer.status);
    auto bytes = format_answer(answer, job.request.method == "HEAD", !job.request.keep_alive);
    if (job.request.http_1_0 && job.request.keep_alive) {
      bytes.insert(bytes.find("\r\n\r\n") + 2, "Connection: keep-alive\r\n");
    }
    job.loop->answer(Done{
        .connection = job.connection, .bytes = std::move(bytes), .close = !job.request.keep_alive});
  }
}

TlsHttpServer::TlsHttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

TlsHttpServer::~TlsHttpServer()
{
  stop();
}

Result<std::unique_ptr<TlsHttpServer>> TlsHttpServer::listen(const CasAddress& address,
                                                             std::shared_ptr<SSL_CTX> context,
                                                             ServerLimits limits,
                                                             HttpHandler handler,
                                                             HttpLogger logger)
{
  auto impl = std::make_unique<Impl>();
  impl->context = std::move(context);
  impl->limits = limits;
  impl->handler = std::move(handler);
  impl->logger = std::move(logger);
  impl->max_connections =
      std::max<std::size_t>(1, std::min(limits.max_connections, descriptor_room()));

  std::string host = address.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(address.port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return fail(ErrorKind::network, "cannot resolve the listen address " + address.host);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  for (const auto* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    const int fd =
        socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      continue;
    }
    // SO_REUSEADDR only: SO_REUSEPORT would let a second CAS bind the same port and split the
    // clients between the two.
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) == 0
        && ::listen(fd, k_listen_backlog) == 0) {
      impl->listener = fd;
      break;
    }
    ::close(fd);
  }
  if (impl->listener < 0) {
    return fail(ErrorKind::network, "cannot listen on " + address.authority());
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(impl->listener, reinterpret_cast<sockaddr*>(&bound), &length);
  impl->port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);

  for (std::size_t i = 0; i < connection_threads(limits); ++i) {
    auto loop = std::make_unique<Impl::Loop>(*impl);
    if (auto opened = loop->open(); !opened) {
      return forward_error(std::move(opened.error()));
    }
    impl->loops.push_back(std::move(loop));
  }
  return std::unique_ptr<TlsHttpServer>(new TlsHttpServer(std::move(impl)));
}

int TlsHttpServer::port() const
{
  return m_impl->port;
}

Result<void> TlsHttpServer::serve()
{
  auto& impl = *m_impl;
  {
    std::lock_guard lock(impl.jobs_mutex);
    impl.workers_stop = false;
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(1, impl.limits.worker_threads); ++i) {
    impl.workers.emplace_back([&impl] { impl.work(); });
  }
  // The calling thread runs the first loop; the others get threads of their own.
  for (std::size_t i = 1; i < impl.loops.size(); ++i) {
    auto& loop = *impl.loops[i];
    loop.thread = std::thread([&loop] { loop.run(); });
  }
  impl.loops.front()->run();
  // The first loop ends on stop(), or when it cannot wait for events any more: the others end too.
  stop();
  for (std::size_t i = 1; i < impl.loops.size(); ++i) {
    impl.loops[i]->thread.join();
  }
  {
    std::lock_guard lock(impl.jobs_mutex);
    impl.workers_stop = true;
    impl.jobs.clear();
  }
  impl.work_ready.notify_all();
  for (auto& worker : impl.workers) {
    worker.join();
  }
  impl.workers.clear();
  for (auto& loop : impl.loops) {
    loop->close_all();
  }
  return {};
}

void TlsHttpServer::stop()
{
  m_impl->stop_requested = true;
  for (const auto& loop : m_impl->loops) {
    loop->wake_up();
  }
}

}  // namespace sconectl::cas::server
