#pragma once

#include "sconectl/util/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The `content` measurement (docs/measurement.md): one algorithm, used by `apply -f service.yaml`
// over an image's merged layers and by the simulation runtime over the live file system of its
// container, so the value the build records and the value the runtime reports agree byte for byte.
namespace sconectl::model {

// One file system entry, as the measurement sees it.
struct FileEntry {
  enum class Type { file, directory, symlink };
  Type type = Type::file;
  std::uint32_t mode = 0;  // permission bits only (setuid, setgid and sticky included)
  std::uint64_t size = 0;
  std::string sha256;       // content hash of regular files, hex
  std::string link_target;  // for symlinks
};

// Absolute path -> entry.
using FileMap = std::map<std::string, FileEntry>;

// A read-only file system to measure. Paths are absolute and never end in '/' (except "/").
class FileTreeView {
 public:
  virtual ~FileTreeView() = default;
  // The entry at `path` itself (a final symbolic link is not followed); std::nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<FileEntry>> entry(const std::string& path) const = 0;
  // Every entry strictly below the directory `dir`, symbolic links not followed.
  [[nodiscard]] virtual Result<FileMap> tree_below(const std::string& dir) const = 0;
  // For messages: "the image", "this container".
  [[nodiscard]] virtual std::string name() const = 0;
};

// A FileTreeView over entries held in memory (an image read from `docker save`, a test).
class FileMapView final : public FileTreeView {
 public:
  explicit FileMapView(const FileMap& files, std::string name = "the image")
      : m_files(&files), m_name(std::move(name))
  {
  }
  [[nodiscard]] Result<std::optional<FileEntry>> entry(const std::string& path) const override;
  [[nodiscard]] Result<FileMap> tree_below(const std::string& dir) const override;
  [[nodiscard]] std::string name() const override { return m_name; }

 private:
  const FileMap* m_files;
  std::string m_name;
};

// What is measured.
struct MeasurementInput {
  std::vector<std::string> command;  // the service's command; its first word is the program
  std::string pwd;
  std::string search_path;  // PATH, for a program named without '/'
  // Version 2: the absolute path of the simulation runtime in the image. Set, the runtime binary
  // (and every link on the way to it) is measured too; unset, the listing is version 1.
  std::optional<std::string> runtime;
  // Version 2 only: paths left out of the listing (the injection files' targets, which the
  // runtime writes after attestation).
  std::vector<std::string> not_measured;
};

struct ContentMeasurement {
  std::string value;    // SHA-256 (hex) of the listing
  std::string listing;  // the canonical listing that was hashed
  std::string program;  // the file the command's program resolved to (what runs)
};

// The listing is one line per selected entry, sorted by path, each a JSON array:
// ["f", mode, size, sha256, path], ["d", mode, 0, "", path] or ["l", mode, 0, target, path],
// after a first line naming the format version. Errors of kind ErrorKind::process name what is
// missing from the file system.
[[nodiscard]] Result<ContentMeasurement> measure_content(const FileTreeView& files,
                                                         const MeasurementInput& input);

// The simulation runtime's file name, and where images built with `--runtime sim` hold it.
inline constexpr const char* k_sim_runtime_name = "sconectl-runtime-sim";
inline constexpr const char* k_sim_runtime_path = "/opt/sconectl/bin/sconectl-runtime-sim";

inline constexpr const char* k_default_search_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Where `program` (the first word of a command) is found, with every symbolic link on the way,
// the final file last: what the measurement lists for it, and what the runtime executes.
[[nodiscard]] Result<std::vector<std::string>> locate_program(const FileTreeView& files,
                                                              const std::string& program,
                                                              const std::string& pwd,
                                                              const std::string& search_path);

}  // namespace sconectl::model
