#include "sconectl/mesh/resolve.hpp"

#include <algorithm>
#include <cctype>

namespace sconectl::mesh {

Substitution substitute_mesh_references(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup)
{
  Substitution result;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) {
      break;
    }
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      break;
    }
    auto inner = text.substr(open + 2, close - open - 2);
    while (!inner.empty() && inner.front() == ' ') {
      inner.remove_prefix(1);
    }
    while (!inner.empty() && inner.back() == ' ') {
      inner.remove_suffix(1);
    }
    const bool is_name = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
    result.text.append(text.substr(i, open - i));
    if (!is_name) {
      result.text.append(text.substr(open, close + 2 - open));
    } else if (auto value = lookup(std::string(inner))) {
      result.text += *value;
    } else {
      result.text.append(text.substr(open, close + 2 - open));
      if (std::find(result.undefined.begin(), result.undefined.end(), inner)
          == result.undefined.end()) {
        result.undefined.emplace_back(inner);
      }
    }
    i = close + 2;
  }
  result.text.append(text.substr(std::min(i, text.size())));
  return result;
}

}  // namespace sconectl::mesh
