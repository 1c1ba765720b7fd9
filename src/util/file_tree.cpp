#include "sconectl/util/file_tree.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

#include <sys/stat.h>

namespace sconectl::fs {

namespace {

bool is_safe_relative(const stdfs::path& path)
{
  if (path.empty() || path.is_absolute()) {
    return false;
  }
  for (const auto& part : path) {
    if (part == ".." || part == ".") {
      return false;
    }
  }
  return true;
}

stdfs::perms directory_mode(FileMode mode)
{
  return mode == FileMode::private_to_owner ? stdfs::perms(0700) : stdfs::perms(0755);
}

stdfs::perms file_mode(FileMode mode)
{
  return mode == FileMode::private_to_owner ? stdfs::perms(0600) : stdfs::perms(0644);
}

// Whether `dir` already holds exactly `files`, with the modes replace_directory gives them, and
// nothing else (no other file, no link, no empty directory). Re-generating an unchanged mesh
// then writes nothing: creating and deleting a thousand files costs far more than reading them.
bool holds_exactly(const stdfs::path& dir, const FileTree& files, FileMode mode)
{
  std::error_code ec;
  const auto top = stdfs::symlink_status(dir, ec);
  if (ec || top.type() != stdfs::file_type::directory
      || (top.permissions() & stdfs::perms::all) != directory_mode(mode)) {
    return false;
  }
  std::size_t found = 0;
  std::set<std::string> directories;
  for (stdfs::recursive_directory_iterator entry(dir, ec), end; !ec && entry != end;
       entry.increment(ec)) {
    const auto status = entry->symlink_status(ec);
    if (ec) {
      return false;
    }
    const auto relative = entry->path().lexically_relative(dir).generic_string();
    if (status.type() == stdfs::file_type::directory) {
      if ((status.permissions() & stdfs::perms::all) != directory_mode(mode)) {
        return false;
      }
      directories.insert(relative);
      continue;
    }
    const auto expected = files.find(relative);
    if (status.type() != stdfs::file_type::regular || expected == files.end()
        || (status.permissions() & stdfs::perms::all) != file_mode(mode)) {
      return false;
    }
    auto content = read_text_file(entry->path(), expected->second.size() + 1);
    if (!content || *content != expected->second) {
      return false;
    }
    ++found;
  }
  if (ec || found != files.size()) {
    return false;
  }
  // Each directory must hold some expected file (an empty one would be left over).
  for (const auto& directory : directories) {
    const auto prefix = directory + "/";
    const auto next = files.lower_bound(prefix);
    if (next == files.end() || next->first.compare(0, prefix.size(), prefix) != 0) {
      return false;
    }
  }
  return true;
}

Result<void> write_tree(const stdfs::path& root, const FileTree& files, FileMode mode)
{
  std::error_code ec;
  stdfs::permissions(root, directory_mode(mode), ec);
  std::set<stdfs::path> made;  // directories created already, so each is created once
  for (const auto& [relative, content] : files) {
    const stdfs::path rel(relative);
    if (!is_safe_relative(rel)) {
      return fail(ErrorKind::internal, "refusing to write the generated path '" + relative + "'");
    }
    const auto path = root / rel;
    for (auto parent = rel.parent_path(); !parent.empty() && !made.contains(parent);
         parent = parent.parent_path()) {
      if (stdfs::create_directories(root / parent, ec); ec) {
        return fail(ErrorKind::io,
                    "cannot create " + (root / parent).string() + ": " + ec.message());
      }
      stdfs::permissions(root / parent, directory_mode(mode), ec);
      made.insert(parent);
    }
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      stdfs::permissions(path, file_mode(mode), ec);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
      out.flush();
      if (!out) {
        return fail(ErrorKind::io, "cannot write " + path.string());
      }
    }
  }
  return {};
}

}  // namespace

Result<void> replace_directory(const stdfs::path& dir, const FileTree& files, FileMode mode)
{
  std::error_code ec;
  const auto parent = dir.parent_path().empty() ? stdfs::path(".") : dir.parent_path();
  stdfs::create_directories(parent, ec);
  std::string staging = (parent / ("." + dir.filename().string() + ".tmp-XXXXXX")).string();
  if (holds_exactly(dir, files, mode)) {
    return {};
  }
  if (::mkdtemp(staging.data()) == nullptr) {
    return fail(ErrorKind::io,
                "cannot create a directory beside " + dir.string() + ": " + std::strerror(errno));
  }
  if (auto written = write_tree(staging, files, mode); !written) {
    stdfs::remove_all(staging, ec);
    return written;
  }
  // Move the old tree aside, the new one in, then drop the old one. Between the two renames `dir`
  // is briefly absent, never half-written.
  const auto old = parent / ("." + dir.filename().string() + ".old");
  stdfs::remove_all(old, ec);
  if (stdfs::exists(dir)) {
    stdfs::rename(dir, old, ec);
    if (ec) {
      stdfs::remove_all(staging, ec);
      return fail(ErrorKind::io, "cannot replace " + dir.string() + ": " + ec.message());
    }
  }
  stdfs::rename(staging, dir, ec);
  if (ec) {
    const auto message = ec.message();
    stdfs::rename(old, dir, ec);
    stdfs::remove_all(staging, ec);
    return fail(ErrorKind::io, "cannot move the new files into " + dir.string() + ": " + message);
  }
  stdfs::remove_all(old, ec);
  return {};
}

}  // namespace sconectl::fs
