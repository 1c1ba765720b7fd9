#pragma once

#include "sconectl/util/error.hpp"
#include "sconectl/util/fs.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace sconectl::fs {

// A set of generated files: path relative to the tree's root -> content. Ordered, so that
// everything derived from it (listings, golden comparisons) is deterministic.
using FileTree = std::map<std::string, std::string>;

// Replaces the directory `dir` as a whole by `files`: they are written into a fresh directory
// beside it, which then takes its place, so `dir` never holds a mix of old and new files and a
// failure leaves the old one untouched. `private_to_owner` gives files mode 0600 and directories
// 0700; otherwise 0644 and 0755. Paths must be relative and must not contain "..". A directory
// that already holds exactly these files, with these modes and nothing else, is left untouched.
[[nodiscard]] Result<void> replace_directory(const std::filesystem::path& dir,
                                             const FileTree& files,
                                             FileMode mode = FileMode::regular);

}  // namespace sconectl::fs
