#pragma once

#include <map>
#include <string>

namespace sconectl::manifest {

// Where a node starts in its file, 1-based; 0 when not known.
struct SourcePosition {
  int line = 0;
  int column = 0;

  bool operator==(const SourcePosition&) const = default;
};

// Positions of the fields of one mapping, so checks that run after parsing (references,
// duplicates) can still point at the exact line. Falls back to the mapping itself.
struct FieldPositions {
  std::string path;  // field path of the mapping itself, e.g. "secrets.global[2]"
  SourcePosition self;
  std::map<std::string, SourcePosition> fields;

  [[nodiscard]] SourcePosition of(const std::string& field) const
  {
    const auto found = fields.find(field);
    return found == fields.end() ? self : found->second;
  }
};

}  // namespace sconectl::manifest
