#include "sconectl/util/file_tree.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

Result<void> write_tree(const stdfs::path& root, const FileTree& files, FileMode mode)
{
  const auto dir_mode =
      mode == FileMode::private_to_owner ? stdfs::perms(0700) : stdfs::perms(0755);
  const auto file_mode =
      mode == FileMode::private_to_owner ? stdfs::perms(0600) : stdfs::perms(0644);
  std::error_code ec;
  stdfs::permissions(root, dir_mode, ec);
  for (const auto& [relative, content] : files) {
    const stdfs::path rel(relative);
    if (!is_safe_relative(rel)) {
      return fail(ErrorKind::internal, "refusing to write the generated path '" + relative + "'");
    }
    const auto path = root / rel;
    for (auto parent = rel.parent_path(); !parent.empty(); parent = parent.parent_path()) {
      if (stdfs::create_directories(root / parent, ec); ec) {
        return fail(ErrorKind::io,
                    "cannot create " + (root / parent).string() + ": " + ec.message());
      }
      stdfs::permissions(root / parent, dir_mode, ec);
    }
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      stdfs::permissions(path, file_mode, ec);
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
