#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace sconectl::manifest {

// `apiVersion: scone/<major>.<minor>[.<patch>]`; manifests need 5.8 or later.
struct ApiVersion {
  int major = 5;
  int minor = 8;
  int patch = 0;

  auto operator<=>(const ApiVersion&) const = default;
};

inline constexpr ApiVersion k_oldest_api_version{5, 8, 0};

[[nodiscard]] std::optional<ApiVersion> parse_api_version(std::string_view text);
[[nodiscard]] std::string to_string(const ApiVersion& version);

}  // namespace sconectl::manifest
