#pragma once

// Private to image/: what to tell a user whose Docker Engine cannot be used, the same whether the
// CLI or the Engine API found out.

#include "sconectl/util/error.hpp"

#include <string>

namespace sconectl::image::detail {

// `engine` says where the engine was looked for ("DOCKER_HOST=...", "the default socket").
[[nodiscard]] Error daemon_unreachable(const std::string& engine);
[[nodiscard]] Error daemon_refused_user(const std::string& engine);

}  // namespace sconectl::image::detail
