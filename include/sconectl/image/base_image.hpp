#pragma once

#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <map>
#include <optional>
#include <string>

namespace sconectl::image {

// The tag of the default base images, unless `--set-version` picks another.
inline constexpr const char* k_default_scone_version = "5.8.0";

// Where the default base images live; `{version}` is replaced by the SCONE version.
inline constexpr const char* k_default_base_repository = "registry.scontain.com/sconectl";

struct BaseImageChoice {
  std::optional<std::string> from_command_line;    // --base-image
  std::map<std::string, std::string> from_config;  // build kind -> image, from the config file
  std::string version = k_default_scone_version;   // --set-version
};

// The documented default for a build kind, e.g. registry.scontain.com/sconectl/python:5.8.0.
// std::nullopt for sconify_image, which transforms the image named in `build.from`.
[[nodiscard]] std::optional<std::string> default_base_image(manifest::BuildKind kind,
                                                            const std::string& version);

// `build.from`, else --base-image, else the config file's entry for the kind, else the default.
// `{version}` in any of them is replaced by the chosen version. The result is checked to be an
// image reference.
[[nodiscard]] Result<std::string> resolve_base_image(const manifest::Build& build,
                                                     const BaseImageChoice& choice);

}  // namespace sconectl::image
