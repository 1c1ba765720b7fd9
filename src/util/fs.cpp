#include "sconectl/util/fs.hpp"

#include "sconectl/util/unique_fd.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::fs {

namespace {

std::string errno_text(int error_number)
{
  return std::strerror(error_number);
}

Result<void> write_all(int fd, std::string_view content, const stdfs::path& path)
{
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(ErrorKind::io, "cannot write " + path.string() + ": " + errno_text(errno));
    }
    written += static_cast<std::size_t>(n);
  }
  return {};
}

// Why a file of this type cannot be read as text, or nothing for a regular file.
std::optional<std::string> refuse_non_regular(mode_t mode)
{
  if (S_ISREG(mode)) {
    return std::nullopt;
  }
  if (S_ISDIR(mode)) {
    return "it is a directory";
  }
  std::string kind = "of an unknown type";
  if (S_ISFIFO(mode)) {
    kind = "a named pipe";
  } else if (S_ISCHR(mode)) {
    kind = "a character device";
  } else if (S_ISBLK(mode)) {
    kind = "a block device";
  } else if (S_ISSOCK(mode)) {
    kind = "a socket";
  }
  return "not a regular file (it is " + kind + ")";
}

}  // namespace

Result<std::string> read_text_file(const stdfs::path& path, std::size_t max_bytes)
{
  const auto failure = [&](const std::string& cause) {
    return fail(ErrorKind::io, "cannot read " + path.string() + ": " + cause);
  };
  // Checked before opening: open(2) on a FIFO blocks until a writer appears.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return failure(errno_text(errno));
  }
  if (auto refused = refuse_non_regular(info.st_mode)) {
    return failure(*refused);
  }
  // A FIFO swapped in after the check cannot block open(2) with O_NONBLOCK, and fstat(2) then
  // refuses it. On a regular file O_NONBLOCK changes nothing.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) {
    return failure(errno_text(errno));
  }
  if (::fstat(fd.get(), &info) != 0) {
    return failure(errno_text(errno));
  }
  if (auto refused = refuse_non_regular(info.st_mode)) {
    return failure(*refused);
  }
  const auto too_large = [&] {
    return failure("larger than "
                   + (max_bytes % (1024 * 1024) == 0
                          ? std::to_string(max_bytes / (1024 * 1024)) + " MiB"
                          : std::to_string(max_bytes) + " bytes"));
  };
  if (info.st_size > 0 && static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    return too_large();
  }
  std::string content;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return failure(errno_text(errno));
    }
    if (n == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {
      return too_large();
    }
  }
  return content;
}

Result<void> write_file_atomically(const stdfs::path& path, std::string_view content, FileMode mode)
{
  return write_file_atomically(path, content, mode == FileMode::private_to_owner ? 0600U : 0644U);
}

Result<void> write_file_atomically(const stdfs::path& path,
                                   std::string_view content,
                                   unsigned permissions)
{
  std::error_code ec;
  const auto parent = path.parent_path();
  if (!parent.empty()) {
    stdfs::create_directories(parent, ec);
    if (ec) {
      return fail(ErrorKind::io,
                  "cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  std::string temp_name = path.string() + ".tmp-XXXXXX";
  // mkstemp: an unpredictable name, created with O_EXCL, so nothing planted there is followed.
  UniqueFd fd(::mkstemp(temp_name.data()));
  if (fd.get() < 0) {
    return fail(
        ErrorKind::io,
        "cannot create a temporary file beside " + path.string() + ": " + errno_text(errno));
  }
  auto written = [&]() -> Result<void> {
    // fchmod is not masked by the umask: the file gets exactly these permissions.
    if (::fchmod(fd.get(), static_cast<mode_t>(permissions)) != 0) {
      return fail(ErrorKind::io, "cannot set the mode of " + temp_name + ": " + errno_text(errno));
    }
    if (auto ok = write_all(fd.get(), content, temp_name); !ok) {
      return ok;
    }
    if (::fsync(fd.get()) != 0) {
      return fail(ErrorKind::io, "cannot flush " + temp_name + ": " + errno_text(errno));
    }
    if (::close(fd.release()) != 0) {
      return fail(ErrorKind::io, "cannot close " + temp_name + ": " + errno_text(errno));
    }
    if (::rename(temp_name.c_str(), path.c_str()) != 0) {
      return fail(ErrorKind::io,
                  "cannot rename " + temp_name + " to " + path.string() + ": " + errno_text(errno));
    }
    return {};
  }();
  if (!written) {
    ::unlink(temp_name.c_str());
  }
  return written;
}

bool stays_inside(const stdfs::path& base, const stdfs::path& candidate)
{
  if (candidate.empty() || candidate.is_absolute()) {
    return false;
  }
  const auto normal = candidate.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") {
    return false;
  }
  // A symbolic link inside `base` may still point outside it: compare resolved paths too.
  std::error_code ec;
  const auto resolved_base = stdfs::weakly_canonical(base, ec);
  if (ec) {
    return true;
  }
  const auto resolved = stdfs::weakly_canonical(base / normal, ec);
  if (ec) {
    return true;
  }
  const auto relative = resolved.lexically_relative(resolved_base);
  return !relative.empty() && *relative.begin() != "..";
}

Result<void> make_own_directory(const stdfs::path& dir)
{
  std::error_code ec;
  const auto status = stdfs::symlink_status(dir, ec);
  if (!ec && status.type() == stdfs::file_type::symlink) {
    // remove() takes the link itself, not what it points to.
    if (stdfs::remove(dir, ec); ec) {
      return fail(ErrorKind::io,
                  "cannot replace " + dir.string() + " by a directory: " + ec.message());
    }
  }
  ec.clear();
  if (stdfs::create_directories(dir, ec); ec) {
    return fail(ErrorKind::io, "cannot create " + dir.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace sconectl::fs
