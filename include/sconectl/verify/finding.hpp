#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

// What `sconectl verify` reports: one finding per difference between what the manifests approve
// and what the CAS holds or the cluster runs, and per weakness of the policies in force.
namespace sconectl::verify {

enum class Severity {
  error,    // differs from what was approved, or cannot be trusted: `verify` exits 3
  warning,  // worth a look, but what runs is what was approved
};
[[nodiscard]] std::string_view to_string(Severity severity);

// Where a finding was made.
enum class Area {
  cas,      // the CAS's identity and the current versions of the sessions
  history,  // the sessions' predecessor chains
  policy,   // the production lint of the sessions in force
  cluster,  // Deployments and pods of the release
};
[[nodiscard]] std::string_view to_string(Area area);

struct Finding {
  Severity severity = Severity::error;
  Area area = Area::cas;
  // A stable token for pipeline gates (docs/verify.md lists them), e.g. "session-differs",
  // "foreign-version", "pod-image-digest".
  std::string kind;
  // What it is about: a session name, "session NAME: FIELD", "deployment NAME", "pod NAME".
  std::string subject;
  std::string message;  // one line for people
  // More lines: the semantic changes of a session, the log lines of a pod. Never a secret value.
  std::vector<std::string> details;
};

[[nodiscard]] nlohmann::ordered_json to_json(const Finding& finding);

// Errors first, then warnings; within each, by area in declaration order, then subject, then
// kind: the same findings always print in the same order.
void sort_findings(std::vector<Finding>& findings);

[[nodiscard]] std::size_t count(const std::vector<Finding>& findings, Severity severity);

}  // namespace sconectl::verify
