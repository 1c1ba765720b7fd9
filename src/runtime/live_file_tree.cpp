#include "sconectl/runtime/live_file_tree.hpp"

#include "sconectl/util/digest.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::runtime {

namespace {

Result<std::string> hash_file(const std::string& path)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0) {
    return fail(ErrorKind::io, "cannot read " + path + ": " + std::strerror(errno));
  }
  Sha256Hasher hasher;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    const auto count = ::read(fd, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      const int error = errno;
      ::close(fd);
      return fail(ErrorKind::io, "cannot read " + path + ": " + std::strerror(error));
    }
    if (count == 0) {
      break;
    }
    hasher.update(buffer.data(), static_cast<std::size_t>(count));
  }
  ::close(fd);
  return to_hex(hasher.finish());
}

Result<std::optional<model::FileEntry>> entry_at(const std::string& path)
{
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<model::FileEntry>();
    }
    return fail(ErrorKind::io, "cannot inspect " + path + ": " + std::strerror(errno));
  }
  model::FileEntry entry{.mode = static_cast<std::uint32_t>(info.st_mode & 07777)};
  if (S_ISDIR(info.st_mode)) {
    entry.type = model::FileEntry::Type::directory;
  } else if (S_ISLNK(info.st_mode)) {
    entry.type = model::FileEntry::Type::symlink;
    std::vector<char> target(static_cast<std::size_t>(info.st_size) + 1);
    const auto length = ::readlink(path.c_str(), target.data(), target.size());
    if (length < 0) {
      return fail(ErrorKind::io, "cannot read the link " + path + ": " + std::strerror(errno));
    }
    entry.link_target.assign(target.data(), static_cast<std::size_t>(length));
  } else if (S_ISREG(info.st_mode)) {
    entry.size = static_cast<std::uint64_t>(info.st_size);
    auto hash = hash_file(path);
    if (!hash) {
      return forward_error(std::move(hash.error()));
    }
    entry.sha256 = std::move(*hash);
  } else {
    // Devices, sockets and FIFOs have no content to measure; an image build never makes them in
    // a measured place, so one appearing there changes the listing and fails the attestation.
    entry.type = model::FileEntry::Type::file;
    entry.sha256 = "special";
  }
  return std::optional<model::FileEntry>(std::move(entry));
}

Result<void> walk(const std::string& dir, model::FileMap& found)
{
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    return fail(ErrorKind::io, "cannot list " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (const dirent* item = ::readdir(stream)) {
    const std::string name = item->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  ::closedir(stream);
  const auto prefix = dir == "/" ? std::string("/") : dir + "/";
  for (const auto& name : names) {
    const auto path = prefix + name;
    auto entry = entry_at(path);
    if (!entry) {
      return forward_error(std::move(entry.error()));
    }
    if (!*entry) {
      continue;  // gone since the listing
    }
    const bool is_dir = (*entry)->type == model::FileEntry::Type::directory;
    found[path] = std::move(**entry);
    if (is_dir) {
      if (auto below = walk(path, found); !below) {
        return below;
      }
    }
  }
  return {};
}

}  // namespace

Result<std::optional<model::FileEntry>> LiveFileTree::entry(const std::string& path) const
{
  if (const auto seen = m_seen.find(path); seen != m_seen.end()) {
    return seen->second;
  }
  auto found = entry_at(path);
  if (found) {
    m_seen.emplace(path, *found);
  }
  return found;
}

Result<model::FileMap> LiveFileTree::tree_below(const std::string& dir) const
{
  model::FileMap found;
  TRY(walk(dir, found));
  return found;
}

}  // namespace sconectl::runtime
