#include "sconectl/util/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
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

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  [[nodiscard]] int get() const { return m_fd; }
  int release()
  {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }

 private:
  int m_fd;
};

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

}  // namespace

Result<std::string> read_text_file(const stdfs::path& path, std::size_t max_bytes)
{
  std::error_code ec;
  const auto status = stdfs::status(path, ec);
  if (ec) {
    return fail(ErrorKind::io, "cannot read " + path.string() + ": " + ec.message());
  }
  if (stdfs::is_directory(status)) {
    return fail(ErrorKind::io, "cannot read " + path.string() + ": it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorKind::io, "cannot read " + path.string() + ": " + errno_text(errno));
  }
  std::string content;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (content.size() > max_bytes) {
      const auto limit = max_bytes % (1024 * 1024) == 0
                             ? std::to_string(max_bytes / (1024 * 1024)) + " MiB"
                             : std::to_string(max_bytes) + " bytes";
      return fail(ErrorKind::io, "cannot read " + path.string() + ": larger than " + limit);
    }
  }
  if (in.bad()) {
    return fail(ErrorKind::io, "cannot read " + path.string() + ": read error");
  }
  return content;
}

Result<void> write_file_atomically(const stdfs::path& path, std::string_view content, FileMode mode)
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
  FileDescriptor fd(::mkstemp(temp_name.data()));
  if (fd.get() < 0) {
    return fail(
        ErrorKind::io,
        "cannot create a temporary file beside " + path.string() + ": " + errno_text(errno));
  }
  const mode_t permissions = mode == FileMode::private_to_owner ? 0600 : 0644;
  auto written = [&]() -> Result<void> {
    if (::fchmod(fd.get(), permissions) != 0) {
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

}  // namespace sconectl::fs
