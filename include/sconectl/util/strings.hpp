#pragma once

#include <algorithm>
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

// `text` without the characters of `whitespace` at either end; by default HTTP's optional
// whitespace (space and tab).
[[nodiscard]] constexpr std::string_view trim(std::string_view text,
                                              std::string_view whitespace = " \t")
{
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(whitespace) - first + 1);
}

// `text` with its ASCII letters in lower case and every other byte as it is, whatever the locale:
// for the case-insensitive words of protocols (HTTP field names, media types, auth schemes).
[[nodiscard]] inline std::string ascii_lower(std::string_view text)
{
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return lowered;
}

}  // namespace sconectl::strings
