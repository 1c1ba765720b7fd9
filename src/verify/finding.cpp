#include "sconectl/verify/finding.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

namespace sconectl::verify {

std::string_view to_string(Severity severity)
{
  switch (severity) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
  }
  return "error";
}

std::string_view to_string(Area area)
{
  switch (area) {
    case Area::cas:
      return "cas";
    case Area::history:
      return "history";
    case Area::policy:
      return "policy";
    case Area::cluster:
      return "cluster";
  }
  return "cas";
}

nlohmann::ordered_json to_json(const Finding& finding)
{
  return nlohmann::ordered_json{{"severity", to_string(finding.severity)},
                                {"area", to_string(finding.area)},
                                {"kind", finding.kind},
                                {"subject", finding.subject},
                                {"message", finding.message},
                                {"details", finding.details}};
}

void sort_findings(std::vector<Finding>& findings)
{
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.severity, a.area, a.subject, a.kind)
           < std::tie(b.severity, b.area, b.subject, b.kind);
  });
}

std::size_t count(const std::vector<Finding>& findings, Severity severity)
{
  return static_cast<std::size_t>(std::count_if(
      findings.begin(), findings.end(), [&](const auto& f) { return f.severity == severity; }));
}

}  // namespace sconectl::verify
