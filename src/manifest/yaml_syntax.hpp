#pragma once

// Private to the manifest module: a strict syntax check with libyaml before yaml-cpp builds nodes.
// yaml-cpp 0.7 accepts some broken documents (an unclosed quote silently runs to the end of the
// file) and reports others vaguely ("bad file" for deep nesting); libyaml's event parser is
// strict, names the problem, and needs no recursion, so deep nesting cannot exhaust the stack.

#include "sconectl/manifest/position.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sconectl::manifest::detail {

struct SyntaxProblem {
  SourcePosition at;
  std::string message;
};

// Nesting deeper than this is refused: no manifest needs it, and yaml-cpp recurses per level.
inline constexpr int k_max_yaml_depth = 200;

[[nodiscard]] std::optional<SyntaxProblem> check_yaml_syntax(std::string_view text);

}  // namespace sconectl::manifest::detail
