#include "change_list.hpp"

#include "sconectl/util/json_member.hpp"

#include <algorithm>

namespace sconectl::diff::detail {

using json::member;

std::string text(const Json& value, const std::string& otherwise)
{
  return value.is_string() ? value.get<std::string>()
                           : (value.is_null() ? otherwise : value.dump());
}

std::vector<std::string> entries(const Json& value)
{
  std::vector<std::string> found;
  if (value.is_null()) {
    return found;
  }
  for (const auto& entry : value.is_array() ? value : Json::array({value})) {
    found.push_back(entry.is_string() ? entry.get<std::string>() : entry.dump());
  }
  return found;
}

std::vector<std::string> missing_from(const std::vector<std::string>& these,
                                      const std::vector<std::string>& those)
{
  std::vector<std::string> missing;
  for (const auto& entry : these) {
    if (std::find(those.begin(), those.end(), entry) == those.end()) {
      missing.push_back(entry);
    }
  }
  return missing;
}

Named by_name(const Json& list)
{
  Named named;
  if (!list.is_array()) {
    return named;
  }
  for (const auto& entry : list) {
    if (entry.is_object() && member(entry, "name").is_string()) {
      named.emplace_back(member(entry, "name").get<std::string>(), &entry);
    }
  }
  return named;
}

const Json* find(const Named& named, const std::string& name)
{
  for (const auto& [entry_name, entry] : named) {
    if (entry_name == name) {
      return entry;
    }
  }
  return nullptr;
}

std::string shown(const std::string& value)
{
  constexpr std::size_t k_shown = 64;
  std::string line = value.substr(0, value.find('\n'));
  if (line.size() > k_shown || line.size() < value.size()) {
    return "\"" + line.substr(0, k_shown) + "...\" (" + std::to_string(value.size()) + " bytes)";
  }
  return "\"" + value + "\"";
}

std::vector<std::string> service_names(const Json& live, const Json& proposed)
{
  std::vector<std::string> names;
  for (const auto& [name, service] : by_name(member(proposed, "services"))) {
    names.push_back(name);
  }
  for (const auto& [name, service] : by_name(member(live, "services"))) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace sconectl::diff::detail
