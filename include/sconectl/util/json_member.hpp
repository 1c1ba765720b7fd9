#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace sconectl::json {

// `object[key]` for reading documents of unknown shape: a null value when `object` is not an
// object or has no such member, so a chain of lookups never throws.
template <class Json>
[[nodiscard]] const Json& member(const Json& object, std::string_view key)
{
  static const Json absent;
  if (!object.is_object()) {
    return absent;
  }
  const auto found = object.find(key);
  return found == object.end() ? absent : *found;
}

}  // namespace sconectl::json
