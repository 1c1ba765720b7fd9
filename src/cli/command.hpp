#pragma once

// Private to the CLI: the pieces each cmd_<name>.cpp shares.

#include "sconectl/cli/app.hpp"
#include "sconectl/util/error.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace sconectl::cli {

enum class OutputFormat { text, json };

// Options that apply to every command.
struct GlobalOptions {
  int verbosity = 0;  // -v: info, -vv: debug
  bool quiet = false;
  OutputFormat format = OutputFormat::text;
};

// What a command registers: the action to run once parsing succeeded. The action returns the
// command's exit code itself (validate reports invalid files as 2 without an Error).
using Action = std::function<Result<int>()>;

Action add_validate_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_apply_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_cas_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_session_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_self_command(CLI::App& app, const GlobalOptions& global, Services& services);

}  // namespace sconectl::cli
