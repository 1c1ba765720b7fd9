#pragma once

// Private to the CLI: how diagnostics and errors reach the user.

#include "sconectl/util/diagnostic.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

namespace sconectl::cli {

// One line per diagnostic, "FILE:LINE:COLUMN: FIELD.PATH: message".
void print_diagnostics(std::ostream& err, const std::vector<Diagnostic>& diagnostics);

// "sconectl: error: <context>: ...: <message>", after the error's own diagnostics.
void print_error(std::ostream& err, const Error& error);

[[nodiscard]] nlohmann::json to_json(const Diagnostic& diagnostic);
[[nodiscard]] nlohmann::json to_json(const std::vector<Diagnostic>& diagnostics);
[[nodiscard]] nlohmann::json to_json(const Error& error);

}  // namespace sconectl::cli
