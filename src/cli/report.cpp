#include "report.hpp"

namespace sconectl::cli {

void print_diagnostics(std::ostream& err, const std::vector<Diagnostic>& diagnostics)
{
  for (const auto& diagnostic : diagnostics) {
    err << format(diagnostic) << '\n';
  }
}

void print_error(std::ostream& err, const Error& error)
{
  print_diagnostics(err, error.diagnostics);
  if (!error.details.empty()) {
    err << error.details << (error.details.back() == '\n' ? "" : "\n");
  }
  err << "sconectl: error: " << error.describe() << '\n';
}

nlohmann::json to_json(const Diagnostic& diagnostic)
{
  return {{"severity", diagnostic.severity == Severity::error ? "error" : "warning"},
          {"file", diagnostic.file},
          {"line", diagnostic.line},
          {"column", diagnostic.column},
          {"path", diagnostic.path},
          {"message", diagnostic.message}};
}

nlohmann::json to_json(const std::vector<Diagnostic>& diagnostics)
{
  auto array = nlohmann::json::array();
  for (const auto& diagnostic : diagnostics) {
    array.push_back(to_json(diagnostic));
  }
  return array;
}

nlohmann::json to_json(const Error& error)
{
  return {{"kind", to_string(error.kind)},
          {"message", error.describe()},
          {"diagnostics", to_json(error.diagnostics)}};
}

}  // namespace sconectl::cli
