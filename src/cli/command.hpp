#pragma once

// Private to the CLI: the pieces each cmd_<name>.cpp shares.

#include "sconectl/cli/app.hpp"
#include "sconectl/util/error.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <type_traits>

namespace sconectl::image {
class DockerCli;
}

namespace sconectl::cli {

// The Docker access of a command: the CLI, with its lookups sent to the Engine API when
// `services` allows it and the engine is on a unix socket (image/docker_engine.hpp).
[[nodiscard]] Result<void> use_engine_api(image::DockerCli& docker, const Services& services);

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

// Restricts `option` to the names in `choices` (case-insensitive) and shows them in the help
// as `{a,b}=default` instead of CLI11's mapping to enum numbers.
template <class Enum>
CLI::Option* choices(CLI::Option* option,
                     const std::map<std::string, Enum>& choices,
                     const std::string& default_name)
{
  std::string names;
  for (const auto& [name, value] : choices) {
    names += (names.empty() ? "" : ",") + name;
  }
  names = "{" + names + "}";
  // Like CLI::CheckedTransformer, but its refusal names the choices, not their enum numbers.
  const auto to_enum = [choices, names](std::string& input) -> std::string {
    std::string lowered = input;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    const auto found = choices.find(lowered);
    if (found == choices.end()) {
      return "'" + input + "' is not one of " + names;
    }
    input = std::to_string(static_cast<std::underlying_type_t<Enum>>(found->second));
    return {};
  };
  return option->transform(CLI::Validator(to_enum, ""))
      ->default_str(default_name)
      ->option_text(names + "=" + default_name);
}

Action add_validate_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_apply_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_diff_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_verify_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_cas_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_session_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_self_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_version_command(CLI::App& app, const GlobalOptions& global, Services& services);
Action add_completion_command(CLI::App& app, const GlobalOptions& global, Services& services);

}  // namespace sconectl::cli
