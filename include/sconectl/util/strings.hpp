#pragma once

#include <string>
#include <string_view>

namespace sconectl::strings {

// The items of `range` (strings or string views) with `separator` between each two.
template <class Range>
[[nodiscard]] std::string join(const Range& range, std::string_view separator)
{
  std::string text;
  bool first = true;
  for (const auto& item : range) {
    if (!first) {
      text += separator;
    }
    text += std::string_view(item);
    first = false;
  }
  return text;
}

}  // namespace sconectl::strings
