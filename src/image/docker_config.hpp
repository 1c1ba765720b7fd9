#pragma once

// Private to image/: the Docker CLI's config.json, which holds its logins (`auths`), where it
// keeps them instead (`credsStore`, `credHelpers`) and its current context. The Engine API
// lookups, the registry client and the CLI's error messages read it the same way.

#include "sconectl/manifest/variables.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

namespace sconectl::image::detail {

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json, as the CLI finds it (an empty
// variable counts as unset); empty when neither is set.
[[nodiscard]] std::filesystem::path docker_config_file(const manifest::VariableLookup& environment);

// The file's JSON object; std::nullopt when it cannot be read or holds no object.
[[nodiscard]] std::optional<nlohmann::json> read_docker_config(const std::filesystem::path& file);

}  // namespace sconectl::image::detail
