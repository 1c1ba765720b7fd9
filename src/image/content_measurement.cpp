#include "sconectl/image/content_measurement.hpp"

#include "sconectl/util/digest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace sconectl::image {

namespace {

constexpr const char* k_format_line = "sconectl-content-measurement-v1";
constexpr int k_max_symlink_hops = 40;

std::vector<std::string> split(const std::string& text, char separator)
{
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    if (end > start) {
      parts.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return parts;
}

// Resolves `path` inside the image, following symbolic links in every component (Debian's /bin
// is a link to /usr/bin) and recording each link passed in `chain`. std::nullopt when missing.
std::optional<std::string> resolve(const ImageFilesystem& filesystem,
                                   const std::string& path,
                                   std::vector<std::string>& chain)
{
  auto pending = split(path, '/');
  std::reverse(pending.begin(), pending.end());
  std::vector<std::string> resolved;
  int hops = 0;
  while (!pending.empty()) {
    auto component = std::move(pending.back());
    pending.pop_back();
    if (component == ".") {
      continue;
    }
    if (component == "..") {
      if (!resolved.empty()) {
        resolved.pop_back();
      }
      continue;
    }
    std::string current;
    for (const auto& part : resolved) {
      current += "/" + part;
    }
    current += "/" + component;
    const auto found = filesystem.find(current);
    if (found == filesystem.end()) {
      return std::nullopt;
    }
    if (found->second.type != ImageFile::Type::symlink) {
      resolved.push_back(std::move(component));
      continue;
    }
    if (++hops > k_max_symlink_hops) {
      return std::nullopt;
    }
    chain.push_back(current);
    const auto& target = found->second.link_target;
    if (!target.empty() && target.front() == '/') {
      resolved.clear();
    }
    auto target_parts = split(target, '/');
    for (auto it = target_parts.rbegin(); it != target_parts.rend(); ++it) {
      pending.push_back(*it);
    }
  }
  std::string result;
  for (const auto& part : resolved) {
    result += "/" + part;
  }
  return result.empty() ? "/" : result;
}

Result<std::vector<std::string>> binary_paths(const ImageFilesystem& filesystem,
                                              const std::string& program,
                                              const std::string& pwd,
                                              const std::string& search_path)
{
  std::vector<std::string> candidates;
  if (program.find('/') != std::string::npos) {
    candidates.push_back(program.front() == '/' ? program : pwd + "/" + program);
  } else {
    for (const auto& dir : split(search_path, ':')) {
      candidates.push_back(dir + "/" + program);
    }
  }
  for (const auto& candidate : candidates) {
    std::vector<std::string> chain;
    const auto target = resolve(filesystem, candidate, chain);
    if (target && filesystem.at(*target).type == ImageFile::Type::file) {
      chain.push_back(*target);
      return chain;
    }
  }
  return fail(
      ErrorKind::process,
      "the command's program '" + program + "' is not in the image (searched " + search_path + ")");
}

std::string listing_line(const std::string& path, const ImageFile& file)
{
  switch (file.type) {
    case ImageFile::Type::directory:
      return nlohmann::json::array({"d", file.mode, 0, "", path}).dump();
    case ImageFile::Type::symlink:
      return nlohmann::json::array({"l", file.mode, 0, file.link_target, path}).dump();
    case ImageFile::Type::file:
      break;
  }
  return nlohmann::json::array({"f", file.mode, file.size, file.sha256, path}).dump();
}

}  // namespace

Result<ContentMeasurement> measure_content(const ImageFilesystem& filesystem,
                                           const std::vector<std::string>& command,
                                           const std::string& pwd,
                                           const std::string& search_path)
{
  if (command.empty()) {
    return fail(ErrorKind::internal, "no command to measure");
  }
  std::vector<std::string> ignored;
  const auto root = resolve(filesystem, pwd, ignored);
  if (!root || filesystem.at(*root).type != ImageFile::Type::directory) {
    return fail(ErrorKind::process, "the working directory " + pwd + " is not in the image");
  }
  std::map<std::string, const ImageFile*> selected;
  auto binary = binary_paths(filesystem, command.front(), *root, search_path);
  if (!binary) {
    return forward_error(std::move(binary.error()));
  }
  for (const auto& path : *binary) {
    selected[path] = &filesystem.at(path);
  }
  const auto prefix = *root == "/" ? std::string("/") : *root + "/";
  selected[*root] = &filesystem.at(*root);
  for (auto it = filesystem.lower_bound(prefix);
       it != filesystem.end() && it->first.rfind(prefix, 0) == 0;
       ++it) {
    selected[it->first] = &it->second;
  }
  ContentMeasurement measurement;
  measurement.listing = std::string(k_format_line) + "\n";
  for (const auto& [path, file] : selected) {
    measurement.listing += listing_line(path, *file) + "\n";
  }
  measurement.value = to_hex(sha256(measurement.listing));
  return measurement;
}

}  // namespace sconectl::image
