#include "sconectl/model/content_measurement.hpp"

#include "sconectl/util/digest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace sconectl::model {

namespace {

constexpr const char* k_format_v1 = "sconectl-content-measurement-v1";
constexpr const char* k_format_v2 = "sconectl-content-measurement-v2";
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

std::string join_path(const std::vector<std::string>& parts)
{
  std::string result;
  for (const auto& part : parts) {
    result += "/" + part;
  }
  return result.empty() ? "/" : result;
}

// Resolves `path`, following symbolic links in every component (Debian's /bin is a link to
// /usr/bin) and recording each link passed in `chain`. std::nullopt when a component is missing.
Result<std::optional<std::string>> resolve(const FileTreeView& files,
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
    resolved.push_back(component);
    const auto current = join_path(resolved);
    auto found = files.entry(current);
    if (!found) {
      return forward_error(std::move(found.error()));
    }
    if (!*found) {
      return std::optional<std::string>();
    }
    if ((*found)->type != FileEntry::Type::symlink) {
      continue;
    }
    resolved.pop_back();
    if (++hops > k_max_symlink_hops) {
      return std::optional<std::string>();
    }
    chain.push_back(current);
    const auto& target = (*found)->link_target;
    if (!target.empty() && target.front() == '/') {
      resolved.clear();
    }
    auto target_parts = split(target, '/');
    for (auto it = target_parts.rbegin(); it != target_parts.rend(); ++it) {
      pending.push_back(*it);
    }
  }
  return std::optional<std::string>(join_path(resolved));
}

// The resolved path when it names an entry of type `type`, with the links passed in `chain`.
Result<std::optional<std::string>> resolve_to(const FileTreeView& files,
                                              const std::string& path,
                                              FileEntry::Type type,
                                              std::vector<std::string>& chain)
{
  auto target = resolve(files, path, chain);
  if (!target || !*target) {
    return target;
  }
  auto entry = files.entry(**target);
  if (!entry) {
    return forward_error(std::move(entry.error()));
  }
  if (!*entry || (*entry)->type != type) {
    return std::optional<std::string>();
  }
  return target;
}

std::string listing_line(const std::string& path, const FileEntry& file)
{
  switch (file.type) {
    case FileEntry::Type::directory:
      return nlohmann::json::array({"d", file.mode, 0, "", path}).dump();
    case FileEntry::Type::symlink:
      return nlohmann::json::array({"l", file.mode, 0, file.link_target, path}).dump();
    case FileEntry::Type::file:
      break;
  }
  return nlohmann::json::array({"f", file.mode, file.size, file.sha256, path}).dump();
}

Result<void> select_entries(const FileTreeView& files,
                            const std::vector<std::string>& paths,
                            FileMap& selected)
{
  for (const auto& path : paths) {
    auto entry = files.entry(path);
    if (!entry) {
      return forward_error(std::move(entry.error()));
    }
    if (*entry) {
      selected[path] = std::move(**entry);
    }
  }
  return {};
}

}  // namespace

Result<std::optional<FileEntry>> FileMapView::entry(const std::string& path) const
{
  const auto found = m_files->find(path);
  if (found == m_files->end()) {
    return std::optional<FileEntry>();
  }
  return std::optional<FileEntry>(found->second);
}

Result<FileMap> FileMapView::tree_below(const std::string& dir) const
{
  const auto prefix = dir == "/" ? std::string("/") : dir + "/";
  FileMap below;
  for (auto it = m_files->lower_bound(prefix);
       it != m_files->end() && it->first.starts_with(prefix);
       ++it) {
    below.insert(*it);
  }
  return below;
}

Result<std::vector<std::string>> locate_program(const FileTreeView& files,
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
    auto target = resolve_to(files, candidate, FileEntry::Type::file, chain);
    if (!target) {
      return forward_error(std::move(target.error()));
    }
    if (*target) {
      chain.push_back(**target);
      return chain;
    }
  }
  return fail(ErrorKind::process,
              "the command's program '" + program + "' is not in " + files.name() + " (searched "
                  + (program.find('/') != std::string::npos ? pwd : search_path) + ")");
}

Result<ContentMeasurement> measure_content(const FileTreeView& files, const MeasurementInput& input)
{
  if (input.command.empty()) {
    return fail(ErrorKind::internal, "no command to measure");
  }
  std::vector<std::string> ignored;
  auto root = resolve_to(files, input.pwd, FileEntry::Type::directory, ignored);
  if (!root) {
    return forward_error(std::move(root.error()));
  }
  if (!*root) {
    return fail(ErrorKind::process,
                "the working directory " + input.pwd + " is not in " + files.name());
  }
  FileMap selected;
  auto program = locate_program(files, input.command.front(), **root, input.search_path);
  if (!program) {
    return forward_error(std::move(program.error()));
  }
  const auto program_file = program->back();
  std::vector<std::string> paths = std::move(*program);
  paths.push_back(**root);
  if (input.runtime) {
    std::vector<std::string> chain;
    auto runtime = resolve_to(files, *input.runtime, FileEntry::Type::file, chain);
    if (!runtime) {
      return forward_error(std::move(runtime.error()));
    }
    if (!*runtime) {
      return fail(ErrorKind::process,
                  "the runtime " + *input.runtime + " is not in " + files.name());
    }
    chain.push_back(**runtime);
    paths.insert(paths.end(), chain.begin(), chain.end());
  }
  TRY(select_entries(files, paths, selected));
  auto below = files.tree_below(**root);
  if (!below) {
    return forward_error(std::move(below.error()));
  }
  selected.merge(*below);
  if (input.runtime) {
    for (const auto& path : input.not_measured) {
      selected.erase(path);
    }
  }
  ContentMeasurement measurement{.program = program_file};
  measurement.listing = std::string(input.runtime ? k_format_v2 : k_format_v1) + "\n";
  for (const auto& [path, file] : selected) {
    measurement.listing += listing_line(path, file) + "\n";
  }
  measurement.value = to_hex(sha256(measurement.listing));
  return measurement;
}

}  // namespace sconectl::model
