#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// Splits `build.command` into program and arguments the way a POSIX shell would split words:
// whitespace separates, single quotes keep everything, double quotes keep everything but `\"`
// and `\\`, a backslash outside quotes escapes the next character. No expansion of any kind.
// Returns std::nullopt for unbalanced quotes or a trailing backslash.
[[nodiscard]] std::optional<std::vector<std::string>> split_command(std::string_view text);

}  // namespace sconectl::manifest
