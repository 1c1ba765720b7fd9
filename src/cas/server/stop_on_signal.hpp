#pragma once

// Private to the local CAS: stopping the server on SIGINT and SIGTERM.

#include <functional>
#include <thread>

#include <signal.h>

namespace sconectl::cas::server {

// While it exists, SIGINT and SIGTERM call `stop` (on a thread of its own, since little is safe
// inside a signal handler); the previous handlers come back on destruction. One at a time.
class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void()> stop);
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  ~StopOnSignal();

 private:
  std::function<void()> m_stop;
  int m_wake_read = -1;
  int m_wake_write = -1;
  struct sigaction m_previous_interrupt {};
  struct sigaction m_previous_terminate {};
  std::thread m_watcher;
};

}  // namespace sconectl::cas::server
