#pragma once

// Private to the manifest module: typed readers for fields shared by both manifest kinds.

#include "parse_context.hpp"
#include "sconectl/manifest/api_version.hpp"
#include "sconectl/manifest/names.hpp"
#include "sconectl/manifest/secret.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest::detail {

[[nodiscard]] std::string join_names(const std::vector<std::string_view>& names);

// Reads an enumerated field; reports an unknown spelling with a suggestion and the valid ones.
template <class Enum, class From>
std::optional<Enum> enum_field(MapReader& reader,
                               const std::string& key,
                               From&& from,
                               const std::vector<std::string_view>& names,
                               std::string_view what,
                               Need need = Need::optional)
{
  const auto text = reader.string(key, need);
  if (!text) {
    return std::nullopt;
  }
  if (auto value = from(*text)) {
    return value;
  }
  if (!reader.context().has_variable_problem(reader.path_of(key))) {
    std::string message = "unknown " + std::string(what) + " '" + *text + "'";
    const auto suggestion = closest_match(*text, names);
    if (!suggestion.empty()) {
      message += " (did you mean '" + suggestion + "'?)";
    }
    message += "; expected one of: " + join_names(names);
    reader.context().error(reader.position_of_field(key), reader.path_of(key), std::move(message));
  }
  return std::nullopt;
}

// `apiVersion`, checked to be scone/5.8 or later.
[[nodiscard]] ApiVersion api_version_field(MapReader& reader);

// A list of secret definitions (`secrets.global`, or the items of an `image_secrets` file).
[[nodiscard]] std::vector<SecretDefinition> parse_secret_definitions(
    const std::vector<std::pair<yaml::Node, std::string>>& items, ParseContext& context);

}  // namespace sconectl::manifest::detail
