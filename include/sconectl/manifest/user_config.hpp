#pragma once

#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace sconectl::manifest {

// The user's sconectl settings (docs/configuration.md):
//   base_images:          # default base image per build kind; {version} is --set-version
//     python: registry.example.com/base/python:{version}
struct UserConfig {
  std::map<std::string, std::string> base_images;
};

// The file to read: `explicit_path` when given, else $SCONECTL_CONFIG, else
// $XDG_CONFIG_HOME/sconectl/config.yaml, else ~/.config/sconectl/config.yaml.
// The variables come from `variables` (the CLI passes its Services::variables).
[[nodiscard]] std::filesystem::path user_config_path(
    const std::optional<std::filesystem::path>& explicit_path,
    const VariableLookup& variables = process_environment());

// A missing file at the default location is an empty config; a missing explicit one is an error.
[[nodiscard]] Result<UserConfig> read_user_config(
    const std::optional<std::filesystem::path>& explicit_path,
    const VariableLookup& variables = process_environment());

}  // namespace sconectl::manifest
