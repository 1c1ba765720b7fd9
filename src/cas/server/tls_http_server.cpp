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

// Descriptors kept free for the store, logs and the process's own files.
constexpr std::size_t k_reserved_descriptors = 64;
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
