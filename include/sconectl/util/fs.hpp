#pragma once

#include "sconectl/util/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace sconectl::fs {

namespace stdfs = std::filesystem;

// Inputs larger than this are refused instead of read: manifests are small, and a runaway file
// (or /dev/zero) must not exhaust memory.
inline constexpr std::size_t k_max_input_bytes = 16 * 1024 * 1024;

// Reads a whole regular file. Errors name the path and the cause. Anything else (a directory, a
// FIFO, a device) is refused without opening it for a blocking read.
[[nodiscard]] Result<std::string> read_text_file(const stdfs::path& path,
                                                 std::size_t max_bytes = k_max_input_bytes);

enum class FileMode { regular, private_to_owner };

// Writes `content` to a temporary file beside `path`, flushes it, then renames it over `path`,
// so readers see either the old or the new file and never a half-written one. Parent directories
// are created. `private_to_owner` creates the file with mode 0600.
[[nodiscard]] Result<void> write_file_atomically(const stdfs::path& path,
                                                 std::string_view content,
                                                 FileMode mode = FileMode::regular);
// The same with exactly these permission bits (e.g. 0640), whatever the umask. The temporary file
// has an unpredictable name (mkstemp) and is fsync'ed before the rename.
[[nodiscard]] Result<void> write_file_atomically(const stdfs::path& path,
                                                 std::string_view content,
                                                 unsigned permissions);

// True when the relative path `candidate` names something inside the directory `base`: it is not
// absolute, does not climb out with "..", and does not leave through a symbolic link.
[[nodiscard]] bool stays_inside(const stdfs::path& base, const stdfs::path& candidate);

// Makes `dir` a directory of its own (parents are created). A symbolic link there is removed,
// never followed, and a directory takes its place, so what sconectl writes, replaces and deletes
// under target/ stays under target/.
[[nodiscard]] Result<void> make_own_directory(const stdfs::path& dir);

}  // namespace sconectl::fs
