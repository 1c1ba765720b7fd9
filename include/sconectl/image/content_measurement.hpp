#pragma once

#include "sconectl/util/error.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sconectl::image {

// One entry of an image's file system after all layers are applied.
struct ImageFile {
  enum class Type { file, directory, symlink };
  Type type = Type::file;
  std::uint32_t mode = 0;  // permission bits only
  std::uint64_t size = 0;
  std::string sha256;       // content hash of regular files, hex
  std::string link_target;  // for symlinks
};

// The merged file system of an image: absolute path -> entry.
using ImageFilesystem = std::map<std::string, ImageFile>;

// Reads the archive that `docker save` writes (the legacy layout with <id>/layer.tar as well as
// the OCI layout with blobs/sha256/<digest>), applies its layers in the order of manifest.json,
// honouring whiteouts, and hashes every regular file. Streams: no layer is extracted to disk.
[[nodiscard]] Result<ImageFilesystem> read_saved_image(const std::filesystem::path& archive);

struct ContentMeasurement {
  std::string value;    // SHA-256 (hex) of the listing
  std::string listing;  // the canonical listing that was hashed
};

// The `content` measurement (documented in docs/measurement.md): a SHA-256 over a canonical
// listing of the command's binary (following symbolic links, searched in `search_path` when the
// command has no '/') and of everything under `pwd`. One line per entry, sorted by path, each a
// JSON array: ["f", mode, size, sha256, path], ["d", mode, 0, "", path] or
// ["l", mode, 0, target, path]. The first line names the format version.
[[nodiscard]] Result<ContentMeasurement> measure_content(const ImageFilesystem& filesystem,
                                                         const std::vector<std::string>& command,
                                                         const std::string& pwd,
                                                         const std::string& search_path);

}  // namespace sconectl::image
