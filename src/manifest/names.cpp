#include "sconectl/manifest/names.hpp"

#include "sconectl/manifest/image_reference.hpp"

#include <algorithm>
#include <regex>
#include <vector>

namespace sconectl::manifest {

const std::vector<std::string_view>& tolerations()
{
  static const std::vector<std::string_view> names{"debug-mode",
                                                   "hyperthreading",
                                                   "insecure-igpu",
                                                   "software-hardening-needed",
                                                   "aepic-leak",
                                                   "insecure-configuration",
                                                   "outdated-tcb",
                                                   "maa-managed-tcb",
                                                   "local-attestation-trust-cas-tcb",
                                                   "simulation"};
  return names;
}

namespace {

bool matches(std::string_view text, const std::regex& pattern)
{
  return std::regex_match(text.begin(), text.end(), pattern);
}

}  // namespace

std::string check_variable_name(std::string_view text)
{
  static const std::regex pattern(R"([A-Za-z_][A-Za-z0-9_]*)");
  if (text.size() > 256 || !matches(text, pattern)) {
    return "a letter or '_' followed by letters, digits or '_'";
  }
  return "";
}

std::string check_secret_name(std::string_view text)
{
  static const std::regex pattern(R"([A-Za-z_][A-Za-z0-9_-]{0,127})");
  if (!matches(text, pattern)) {
    return "a letter or '_' followed by letters, digits, '_' or '-' (at most 128 characters)";
  }
  return "";
}

std::string check_session_segment(std::string_view text)
{
  static const std::regex pattern(R"([A-Za-z0-9_.~-]{1,128})");
  if (!matches(text, pattern) || text == "." || text == "..") {
    return "1 to 128 of the characters A-Z a-z 0-9 _ - . ~";
  }
  return "";
}

std::string check_session_name(std::string_view text)
{
  if (text.empty() || text.size() > 512) {
    return "1 to 512 characters";
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find('/', start), text.size());
    if (!check_session_segment(text.substr(start, end - start)).empty()) {
      return "'/'-separated segments of 1 to 128 of the characters A-Z a-z 0-9 _ - . ~";
    }
    start = end + 1;
  }
  return "";
}

std::string check_image_reference(std::string_view text)
{
  if (text.empty()) {
    return "an image reference like registry.example.com/team/app:1.0";
  }
  if (!parse_image_reference(text)) {
    return "an image reference like registry.example.com/team/app:1.0 (lower-case path, "
           "optional :tag and @sha256:digest)";
  }
  return "";
}

std::string check_host_port(std::string_view text)
{
  static const std::regex pattern(
      R"(((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::([0-9]{1,5}))?)");
  std::match_results<std::string_view::const_iterator> match;
  if (text.size() > 253 || !std::regex_match(text.begin(), text.end(), match, pattern)) {
    return "a host name or address with an optional :port, like cas.scone-system or 127.0.0.1:8081";
  }
  if (match[2].matched && std::stoul(match[2].str()) > 65535) {
    return "a port between 1 and 65535";
  }
  return "";
}

bool is_hex(std::string_view text, std::size_t length)
{
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    previous[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace sconectl::manifest
