#pragma once

#include "sconectl/util/error.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sconectl {

// A program and its arguments, passed to the operating system as an argument vector: no shell
// ever interprets them, so a value like "x y; rm -rf /" stays one argument.
struct Command {
  std::string program;
  std::vector<std::string> args;
  std::map<std::string, std::string> extra_env;  // added to (or overriding) the inherited env
  std::optional<std::filesystem::path> working_dir;
  std::optional<std::string> stdin_data;  // empty stdin (/dev/null) when not set
  std::optional<std::chrono::milliseconds> timeout;
  // Called with each chunk of stdout and stderr as it arrives (for progress); output is still
  // collected in Completed.
  std::function<void(std::string_view chunk)> on_output;
};

// How a finished child ended. A non-zero exit is data, not an error: callers decide.
struct Completed {
  int exit_code = 0;       // the exit status, or 128 + signal number
  bool timed_out = false;  // killed because `Command::timeout` elapsed
  std::string out;
  std::string err;
};

// The seam between sconectl and the programs it drives (docker, helm). Unit tests use a fake.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs the command to completion. Errors only when it cannot be started at all.
  virtual Result<Completed> run(const Command& command) = 0;
};

// posix_spawnp with pipes read through poll(), so a child filling one pipe cannot deadlock us.
class PosixProcessRunner final : public ProcessRunner {
 public:
  Result<Completed> run(const Command& command) override;
};

// The command line shell-quoted, for logs and error messages only; never executed.
[[nodiscard]] std::string to_display_string(const Command& command);

}  // namespace sconectl
