#include "sconectl/manifest/api_version.hpp"

#include <regex>

namespace sconectl::manifest {

std::optional<ApiVersion> parse_api_version(std::string_view text)
{
  static const std::regex pattern(R"(scone/([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,4}))?)");
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(text.begin(), text.end(), match, pattern)) {
    return std::nullopt;
  }
  return ApiVersion{.major = std::stoi(match[1].str()),
                    .minor = std::stoi(match[2].str()),
                    .patch = match[3].matched ? std::stoi(match[3].str()) : 0};
}

std::string to_string(const ApiVersion& version)
{
  return "scone/" + std::to_string(version.major) + "." + std::to_string(version.minor) + "."
         + std::to_string(version.patch);
}

}  // namespace sconectl::manifest
