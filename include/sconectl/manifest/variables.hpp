#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// Looks a variable up; std::nullopt when it is not set. Injected so tests need no real environment.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
[[nodiscard]] VariableLookup process_environment();

// One `$NAME`, `${NAME}`, `${NAME:-default}` or `${NAME-default}` in a text.
struct VariableUse {
  std::string name;
  std::optional<std::string> default_value;
  bool default_when_empty = false;  // ":-" (also when set but empty) rather than "-"
};

struct Expansion {
  std::string text;
  std::vector<std::string> undefined;  // names that were neither set nor had a default
  std::vector<std::string> problems;   // malformed syntax, e.g. an unterminated "${"
};

// Shell-style expansion of a manifest value, done on each YAML scalar after parsing so that a value
// can never change the document's structure.
//  * `$NAME` and `${NAME}` are replaced by the variable's value;
//  * `${NAME:-word}` uses `word` when NAME is unset or empty, `${NAME-word}` when it is unset;
//  * `$$SCONE::...$$` (a CAS secret reference) is kept exactly as written;
//  * any other `$$` stands for one literal `$`;
//  * a `$` not followed by a name or `{` is kept as it is (e.g. "!#what!$#").
[[nodiscard]] Expansion expand_variables(std::string_view text, const VariableLookup& lookup);

// The variable uses in `text`, in order of appearance (for `apply --print-defaults`).
[[nodiscard]] std::vector<VariableUse> find_variables(std::string_view text);

// `{{NAME}}` mesh references: spaces inside the braces are allowed, NAME is letters, digits,
// '_', '.' and '-'. Any other `{{...}}` text is not a reference and stays as it is (Helm and Go
// templates use braces too). One scanner serves both functions below.

// The names of the mesh references in `text`, in order of appearance.
[[nodiscard]] std::vector<std::string> find_mesh_references(std::string_view text);

struct Substitution {
  std::string text;
  std::vector<std::string> undefined;  // names lookup did not know, each once
};

// Replaces each mesh reference by lookup(NAME); a reference lookup does not know is kept.
[[nodiscard]] Substitution substitute_mesh_references(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace sconectl::manifest
