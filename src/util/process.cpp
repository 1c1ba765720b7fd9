#include "sconectl/util/process.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sconectl {

namespace {

struct Pipe {
  std::array<int, 2> fds{-1, -1};
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  Pipe() = default;
  ~Pipe()
  {
    close_end(0);
    close_end(1);
  }
  bool open() { return ::pipe2(fds.data(), O_CLOEXEC) == 0; }
  void close_end(std::size_t end)
  {
    if (fds.at(end) >= 0) {
      ::close(fds.at(end));
      fds.at(end) = -1;
    }
  }
};

std::vector<std::string> build_environment(const std::map<std::string, std::string>& extra)
{
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    if (extra.find(std::string(name)) == extra.end()) {
      env.emplace_back(text);
    }
  }
  for (const auto& [name, value] : extra) {
    env.push_back(name + "=" + value);
  }
  return env;
}

std::vector<char*> as_argv(std::vector<std::string>& strings)
{
  std::vector<char*> argv;
  argv.reserve(strings.size() + 1);
  for (auto& s : strings) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  return argv;
}

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&m_actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&m_actions); }
  posix_spawn_file_actions_t* get() { return &m_actions; }

 private:
  posix_spawn_file_actions_t m_actions{};
};

// Feeds stdin and drains stdout/stderr until both close or the deadline passes.
void pump(Pipe& in, Pipe& out, Pipe& err, const Command& command, Completed& result, pid_t pid)
{
  const std::string input = command.stdin_data.value_or("");
  std::size_t input_written = 0;
  if (input.empty()) {
    in.close_end(1);
  }
  const auto deadline = command.timeout ? std::chrono::steady_clock::now() + *command.timeout
                                        : std::chrono::steady_clock::time_point::max();
  char buffer[65536];
  while (out.fds[0] >= 0 || err.fds[0] >= 0) {
    std::array<pollfd, 3> polled{};
    polled[0] = {out.fds[0], POLLIN, 0};
    polled[1] = {err.fds[0], POLLIN, 0};
    polled[2] = {in.fds[1], POLLOUT, 0};
    int wait_ms = -1;
    if (command.timeout) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid, SIGKILL);
        result.timed_out = true;
        return;
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
    }
    const int ready = ::poll(polled.data(), polled.size(), wait_ms);
    if (ready < 0 && errno != EINTR) {
      return;
    }
    for (std::size_t i = 0; i < 2; ++i) {
      if ((polled.at(i).revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      Pipe& pipe = i == 0 ? out : err;
      const ssize_t n = ::read(pipe.fds[0], buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
        if (command.on_output) {
          command.on_output(std::string_view(buffer, static_cast<std::size_t>(n)));
        }
      } else if (n == 0 || errno != EINTR) {
        pipe.close_end(0);
      }
    }
    if ((polled[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n =
          ::write(in.fds[1], input.data() + input_written, input.size() - input_written);
      if (n > 0) {
        input_written += static_cast<std::size_t>(n);
      }
      if (n < 0 || input_written == input.size()) {
        in.close_end(1);
      }
    }
  }
}

}  // namespace

Result<Completed> PosixProcessRunner::run(const Command& command)
{
  Pipe in;
  Pipe out;
  Pipe err;
  if (!in.open() || !out.open() || !err.open()) {
    return fail(ErrorKind::process, "cannot create pipes: " + std::string(std::strerror(errno)));
  }
  // The parent writes stdin; a SIGPIPE from a child that exits early must not kill us.
  std::signal(SIGPIPE, SIG_IGN);

  SpawnActions actions;
  ::posix_spawn_file_actions_adddup2(actions.get(), in.fds[0], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), out.fds[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), err.fds[1], STDERR_FILENO);
  if (command.working_dir) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), command.working_dir->c_str());
  }

  std::vector<std::string> argv_strings{command.program};
  argv_strings.insert(argv_strings.end(), command.args.begin(), command.args.end());
  auto argv = as_argv(argv_strings);
  auto env_strings = build_environment(command.extra_env);
  auto envp = as_argv(env_strings);

  pid_t pid = 0;
  const int spawn_error = ::posix_spawnp(
      &pid, command.program.c_str(), actions.get(), nullptr, argv.data(), envp.data());
  if (spawn_error != 0) {
    return fail(ErrorKind::process,
                "cannot start '" + command.program + "': " + std::strerror(spawn_error));
  }
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  Completed result;
  pump(in, out, err, command, result, pid);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return fail(ErrorKind::process,
                  "cannot wait for '" + command.program + "': " + std::strerror(errno));
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

std::string to_display_string(const Command& command)
{
  auto quote = [](const std::string& word) {
    if (!word.empty()
        && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "-_./:=@%+,")
               == std::string::npos) {
      return word;
    }
    std::string quoted = "'";
    for (const char c : word) {
      if (c == '\'') {
        quoted += "'\\''";
      } else {
        quoted += c;
      }
    }
    return quoted + "'";
  };
  std::string text = quote(command.program);
  for (const auto& arg : command.args) {
    text += ' ';
    text += quote(arg);
  }
  return text;
}

}  // namespace sconectl
