#pragma once

// Private to the local CAS's HTTPS front: the state TlsHttpServer's connection threads
// (connection_loop.cpp) and its workers (tls_http_server.cpp) share. A connection thread owns the
// connections it accepted, from the accept to the close; only complete requests go to the workers,
// and only answers come back.

#include "tls_http_server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

using SSL = struct ssl_st;

namespace sconectl::cas::server {

using Clock = std::chrono::steady_clock;

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

  Result<void> open();

  // Every loop waits on the one listening socket; EPOLLEXCLUSIVE wakes one of those waiting for a
  // new connection instead of all of them, so the first idle loop takes it.
  void listen_again();

  void wake_up() const;

  void answer(Done result);

  void watch(Connection& connection, std::uint32_t events);

  void close_connection(Connection& connection);

  // Accepts a bounded number of connections per wake-up: each starts a handshake at once, and a
  // loop that took a whole burst in one go would leave its other connections waiting meanwhile.
  // The listening socket stays readable while more wait, so the loop comes back for them.
  void accept_some();

  // Waits for the socket as OpenSSL asks, or closes the connection on any other outcome.
  // Returns false when the connection is gone.
  bool wait_or_close(Connection& connection, int result);

  void handshake(Connection& connection);

  void read(Connection& connection);

  // Acts on what the reader made of the bytes so far; false when reading must stop.
  bool after_feed(Connection& connection, HttpRequestReader::Progress progress);

  void refuse(Connection& connection);

  void dispatch(Connection& connection);

  void write(Connection& connection, std::string bytes, Connection::AfterWrite after);

  void flush(Connection& connection);

  // Reads and drops what the client sends after a refusal, until it closes, the time is up or
  // enough was dropped.
  void drain(Connection& connection);

  void on_event(std::uint64_t id);

  void collect_answers();

  void sweep();

  void run();

  void close_all();
};

}  // namespace sconectl::cas::server
