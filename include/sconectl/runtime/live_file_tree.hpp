#pragma once

#include "sconectl/model/content_measurement.hpp"

#include <map>
#include <optional>
#include <string>

namespace sconectl::runtime {

// The running container's own file system as the measurement sees it: lstat(2) for entries,
// a SHA-256 of each regular file's content read as it is now. Each path is read once: the
// measurement asks for the program's entries several times (resolving, then listing), and
// hashing a 6 MB interpreter again each time would be most of the runtime's start-up.
class LiveFileTree final : public model::FileTreeView {
 public:
  [[nodiscard]] Result<std::optional<model::FileEntry>> entry(
      const std::string& path) const override;
  [[nodiscard]] Result<model::FileMap> tree_below(const std::string& dir) const override;
  [[nodiscard]] std::string name() const override { return "this container"; }

 private:
  mutable std::map<std::string, std::optional<model::FileEntry>> m_seen;
};

}  // namespace sconectl::runtime
