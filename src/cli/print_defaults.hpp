#pragma once

// Private to the CLI: `apply --print-defaults`.

#include "sconectl/manifest/load.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace sconectl::cli {

// The variables a manifest uses: `$NAME` from the environment (with defaults and whether each is
// set; values are never shown, they may be credentials), and the mesh-level variables.
[[nodiscard]] nlohmann::json describe_variables(const manifest::LoadReport& report);

void print_variables(std::ostream& out, const nlohmann::json& description);

}  // namespace sconectl::cli
