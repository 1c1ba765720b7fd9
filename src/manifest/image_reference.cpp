#include "sconectl/manifest/image_reference.hpp"

#include <algorithm>
#include <regex>

namespace sconectl::manifest {

namespace {

constexpr std::size_t k_max_reference_length = 512;

bool fully_matches(std::string_view text, const std::regex& pattern)
{
  return std::regex_match(text.begin(), text.end(), pattern);
}

bool valid_registry(std::string_view text)
{
  static const std::regex host_and_port(
      R"(((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?)");
  return fully_matches(text, host_and_port);
}

// Docker's rule (splitDockerDomain) plus bracketed IPv6: a '.', a ':', an upper-case letter (which
// no path may have) or "localhost" marks a registry. A component that looks like one but is no
// valid host ("my_team.v2") stays in the path, as the manifest checks have always read it.
bool is_registry(std::string_view component)
{
  const bool looks_like_one =
      component.find_first_of(".:[") != std::string_view::npos || component == "localhost"
      || std::any_of(
          component.begin(), component.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  return looks_like_one && valid_registry(component);
}

bool valid_path(std::string_view text)
{
  static const std::regex path(
      R"([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)");
  return fully_matches(text, path);
}

bool valid_tag(std::string_view text)
{
  static const std::regex tag(R"([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  return fully_matches(text, tag);
}

bool valid_digest(std::string_view text)
{
  static const std::regex digest(R"(sha256:[a-f0-9]{64})");
  return fully_matches(text, digest);
}

}  // namespace

std::string ImageReference::repository() const
{
  return registry.empty() ? path : registry + "/" + path;
}

std::string ImageReference::without_digest() const
{
  return tag ? repository() + ":" + *tag : repository();
}

std::string ImageReference::name() const
{
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ImageReference::to_string() const
{
  return digest ? without_digest() + "@" + *digest : without_digest();
}

std::optional<ImageReference> parse_image_reference(std::string_view text)
{
  if (text.empty() || text.size() > k_max_reference_length) {
    return std::nullopt;
  }
  ImageReference reference;
  auto rest = text;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    reference.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!valid_digest(*reference.digest)) {
      return std::nullopt;
    }
  }
  // The registry is everything before the first '/', when it looks like one; a port's ':' is
  // then not a tag separator.
  if (const auto slash = rest.find('/');
      slash != std::string_view::npos && is_registry(rest.substr(0, slash))) {
    reference.registry = std::string(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    reference.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(*reference.tag)) {
      return std::nullopt;
    }
  }
  reference.path = std::string(rest);
  if (!valid_path(reference.path)) {
    return std::nullopt;
  }
  return reference;
}

}  // namespace sconectl::manifest
