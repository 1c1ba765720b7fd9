#pragma once

#include <string>
#include <vector>

namespace sconectl {

enum class Severity { warning, error };

// One problem found in an input file, with the position of the offending node. Lines and columns
// are 1-based; 0 means "unknown" (e.g. a problem with the file as a whole).
struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;  // field path inside the document, e.g. "secrets.global[1].kind"
  std::string message;

  bool operator==(const Diagnostic&) const = default;
};

// "FILE:LINE:COLUMN: FIELD.PATH: message" (position and path parts left out when unknown).
[[nodiscard]] std::string format(const Diagnostic& diagnostic);

[[nodiscard]] bool has_errors(const std::vector<Diagnostic>& diagnostics);

}  // namespace sconectl
