#include "sconectl/image/build_context.hpp"

#include "sconectl/image/dockerfile.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/fs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>

namespace sconectl::image {

namespace stdfs = std::filesystem;

namespace {

// Files in the context get this modification time, so their layers do not depend on when the
// sources were last touched (2000-01-01T00:00:00Z).
const auto k_fixed_time = stdfs::file_time_type::clock::from_sys(
    std::chrono::sys_seconds{std::chrono::seconds{946684800}});

class ContextWriter {
 public:
  ContextWriter(const manifest::ServiceManifest& service, stdfs::path root)
      : m_service(service), m_root(std::move(root))
  {
  }

  Result<void> add_file(const stdfs::path& source,
                        const std::string& relative,
                        const std::string& field)
  {
    auto content = fs::read_text_file(source, std::numeric_limits<std::size_t>::max());
    if (!content) {
      return fail(ErrorKind::io, field + ": " + content.error().message);
    }
    const auto status = stdfs::status(source);
    const bool executable = (status.permissions() & stdfs::perms::owner_exec) != stdfs::perms::none;
    const auto target = m_root / relative;
    std::error_code ec;
    stdfs::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary);
    out << *content;
    out.close();
    if (!out) {
      return fail(ErrorKind::io, "cannot write " + target.string());
    }
    const std::uint32_t mode = executable ? 0755 : 0644;
    stdfs::permissions(target, static_cast<stdfs::perms>(mode), ec);
    stdfs::last_write_time(target, k_fixed_time, ec);
    m_entries.push_back(ContextEntry{.path = relative,
                                     .mode = mode,
                                     .size = content->size(),
                                     .sha256 = to_hex(sha256(*content))});
    return {};
  }

  Result<void> add_directory(const std::string& relative)
  {
    std::error_code ec;
    stdfs::create_directories(m_root / relative, ec);
    if (ec) {
      return fail(ErrorKind::io,
                  "cannot create " + (m_root / relative).string() + ": " + ec.message());
    }
    m_entries.push_back(ContextEntry{.path = relative, .is_directory = true, .mode = 0755});
    return {};
  }

  // Copies `relative` (a file or a directory tree below the manifest's directory) to app/.
  Result<void> add_copied(const std::string& relative, const std::string& field)
  {
    const auto& base = m_service.base_dir;
    if (!fs::stays_inside(base, relative)) {
      return fail(ErrorKind::manifest,
                  field + ": '" + relative + "' must be a relative path inside " + base.string());
    }
    const auto normal = stdfs::path(relative).lexically_normal().relative_path();
    const auto source = base / normal;
    std::error_code ec;
    const auto status = stdfs::status(source, ec);
    if (ec || !stdfs::exists(status)) {
      return fail(ErrorKind::manifest,
                  field + ": '" + relative + "' does not exist in " + base.string());
    }
    auto destination =
        (stdfs::path(k_context_app_dir) / normal).lexically_normal().generic_string();
    while (!destination.empty() && destination.back() == '/') {
      destination.pop_back();
    }
    if (stdfs::is_regular_file(status)) {
      return add_file(source, destination, field);
    }
    if (!stdfs::is_directory(status)) {
      return fail(ErrorKind::manifest,
                  field + ": '" + relative + "' is neither a file nor a directory");
    }
    // A symbolic link back to an ancestor would otherwise be copied forever.
    const auto canonical = stdfs::canonical(source, ec);
    if (!m_visited.insert(canonical.string()).second) {
      return fail(ErrorKind::manifest, field + ": '" + relative + "' leads into a directory "
                                           "that is already copied (a symbolic link loop?)");
    }
    if (auto ok = add_directory(destination); !ok) {
      return ok;
    }
    std::vector<stdfs::path> children;
    for (const auto& entry : stdfs::directory_iterator(source, ec)) {
      children.push_back(entry.path().filename());
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      const auto child_relative = (normal / child).generic_string();
      if (auto ok = add_copied(child_relative, field); !ok) {
        return ok;
      }
    }
    return {};
  }

  std::vector<ContextEntry> take_entries()
  {
    std::sort(m_entries.begin(), m_entries.end(), [](const auto& a, const auto& b) {
      return a.path < b.path;
    });
    m_entries.erase(std::unique(m_entries.begin(),
                                m_entries.end(),
                                [](const auto& a, const auto& b) { return a.path == b.path; }),
                    m_entries.end());
    return std::move(m_entries);
  }

 private:
  const manifest::ServiceManifest& m_service;
  stdfs::path m_root;
  std::vector<ContextEntry> m_entries;
  std::set<std::string> m_visited;
};

Result<void> write_context(const manifest::ServiceManifest& service,
                           const std::string& dockerfile,
                           const stdfs::path& root,
                           const std::optional<stdfs::path>& runtime_binary,
                           std::vector<ContextEntry>& entries)
{
  ContextWriter writer(service, root);
  const auto dockerfile_path = root / "Dockerfile";
  if (auto ok = fs::write_file_atomically(dockerfile_path, dockerfile); !ok) {
    return ok;
  }
  if (auto ok = writer.add_file(dockerfile_path, "Dockerfile", "Dockerfile"); !ok) {
    return ok;
  }
  if (runtime_binary) {
    if (!stdfs::is_regular_file(*runtime_binary)) {
      return fail(ErrorKind::io,
                  "the simulation runtime " + runtime_binary->string()
                      + " is missing: build it (target sconectl-runtime-sim) or set "
                        "SCONECTL_RUNTIME_SIM");
    }
    if (auto ok = writer.add_file(*runtime_binary, k_context_runtime, "--runtime sim"); !ok) {
      return ok;
    }
  }
  const auto& build = service.build;
  if (build.requirements) {
    if (!fs::stays_inside(service.base_dir, *build.requirements)) {
      return fail(ErrorKind::manifest,
                  "build.requirements: '" + *build.requirements
                      + "' must be a relative path inside " + service.base_dir.string());
    }
    const auto source = service.base_dir / *build.requirements;
    if (!stdfs::is_regular_file(source)) {
      return fail(ErrorKind::manifest,
                  "build.requirements: '" + *build.requirements + "' is not a file in "
                      + service.base_dir.string());
    }
    if (auto ok = writer.add_file(source, k_context_requirements, "build.requirements"); !ok) {
      return ok;
    }
  }
  for (std::size_t i = 0; i < build.copy.size(); ++i) {
    const auto& relative = build.copy[i];
    if (relative.find('\n') != std::string::npos) {
      return fail(ErrorKind::manifest,
                  "build.copy[" + std::to_string(i) + "]: a path cannot contain a newline");
    }
    if (auto ok = writer.add_copied(relative, "build.copy[" + std::to_string(i) + "]"); !ok) {
      return ok;
    }
  }
  entries = writer.take_entries();
  return {};
}

}  // namespace

Result<BuildContext> assemble_build_context(const manifest::ServiceManifest& service,
                                            const std::string& dockerfile,
                                            const stdfs::path& dir,
                                            const std::optional<stdfs::path>& runtime_binary)
{
  std::error_code ec;
  stdfs::create_directories(dir.parent_path(), ec);
  std::string staging =
      (dir.parent_path() / ("." + dir.filename().string() + ".tmp-XXXXXX")).string();
  if (::mkdtemp(staging.data()) == nullptr) {
    return fail(ErrorKind::io, "cannot create a directory beside " + dir.string());
  }
  BuildContext context{.dir = dir};
  auto written = write_context(service, dockerfile, staging, runtime_binary, context.entries);
  if (!written) {
    stdfs::remove_all(staging, ec);
    return forward_error(std::move(written.error()));
  }
  // Replace the old context as a whole: move it aside, move the new one in, drop the old one.
  const auto old = dir.string() + ".old";
  stdfs::remove_all(old, ec);
  if (stdfs::exists(dir)) {
    stdfs::rename(dir, old, ec);
  }
  stdfs::rename(staging, dir, ec);
  if (ec) {
    stdfs::remove_all(staging, ec);
    return fail(ErrorKind::io, "cannot move the build context into " + dir.string());
  }
  stdfs::remove_all(old, ec);
  return context;
}

std::string context_listing(const BuildContext& context)
{
  std::string listing;
  for (const auto& entry : context.entries) {
    listing +=
        nlohmann::json::array(
            {entry.is_directory ? "d" : "f", entry.mode, entry.size, entry.sha256, entry.path})
            .dump();
    listing += '\n';
  }
  return listing;
}

}  // namespace sconectl::image
