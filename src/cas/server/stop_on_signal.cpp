#include "stop_on_signal.hpp"

#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace sconectl::cas::server {

namespace {

// The write end of the wake-up pipe, for the signal handler (which can reach nothing else).
std::atomic<int> g_wake_fd = -1;

void on_signal(int /*signal*/)
{
  const int saved_errno = errno;
  const int fd = g_wake_fd.load();
  if (fd >= 0) {
    const char byte = 's';
    [[maybe_unused]] const auto written = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}

}  // namespace

StopOnSignal::StopOnSignal(std::function<void()> stop) : m_stop(std::move(stop))
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return;  // without the pipe, signals keep their previous behaviour (normally: exit)
  }
  m_wake_read = fds[0];
  m_wake_write = fds[1];
  g_wake_fd = m_wake_write;
  m_watcher = std::thread([this] {
    pollfd wake{.fd = m_wake_read, .events = POLLIN, .revents = 0};
    while (::poll(&wake, 1, -1) >= 0 || errno == EINTR) {
      char byte = 0;
      const auto got = ::read(m_wake_read, &byte, 1);
      if (got == 0) {
        return;  // the destructor closed the write end
      }
      if (got == 1) {
        m_stop();
      }
    }
  });
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &m_previous_interrupt);
  ::sigaction(SIGTERM, &action, &m_previous_terminate);
}

StopOnSignal::~StopOnSignal()
{
  if (m_wake_write < 0) {
    return;
  }
  ::sigaction(SIGINT, &m_previous_interrupt, nullptr);
  ::sigaction(SIGTERM, &m_previous_terminate, nullptr);
  g_wake_fd = -1;
  ::close(m_wake_write);
  m_watcher.join();
  ::close(m_wake_read);
}

}  // namespace sconectl::cas::server
