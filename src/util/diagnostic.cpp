#include "sconectl/util/diagnostic.hpp"

#include <algorithm>

namespace sconectl {

std::string format(const Diagnostic& diagnostic)
{
  std::string text = diagnostic.file;
  if (diagnostic.line > 0) {
    text += ":" + std::to_string(diagnostic.line);
    if (diagnostic.column > 0) {
      text += ":" + std::to_string(diagnostic.column);
    }
  }
  text += ": ";
  if (!diagnostic.path.empty()) {
    text += diagnostic.path + ": ";
  }
  if (diagnostic.severity == Severity::warning) {
    text += "warning: ";
  }
  text += diagnostic.message;
  return text;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics)
{
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity == Severity::error;
  });
}

}  // namespace sconectl
