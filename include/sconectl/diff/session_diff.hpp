#pragma once

#include "sconectl/model/session.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

// What an update of a CAS session changes, in the terms that decide whether it is safe: which
// measurements stop being accepted, which secrets CAS will generate anew (losing the old value for
// good), who gains access, what attestation stops proving. A semantic comparison of two session
// documents, not a text diff. Pure: no CAS, no I/O.
namespace sconectl::diff {

// The groups a change is reported in, most dangerous first.
enum class Area {
  attestation,  // measurements, tolerations, ignored advisories, the attestation mode
  secrets,      // definitions, explicit values (never shown), exports, imports
  access,       // access_policy
  program,      // services, command, pwd, environment, injection files
  other,        // any other part of the session
};

[[nodiscard]] std::string_view to_string(Area area);

struct Change {
  Area area = Area::other;
  // A stable token for pipeline gates (docs/diff.md lists them), e.g. "measurement-removed",
  // "secret-regenerated", "toleration-added".
  std::string kind;
  // What changed: "service app", "secret api_password", "access_policy.read", ...
  std::string subject;
  // One line for people.
  std::string message;
  // The old and new values where they may be shown; null when absent, or when the value is an
  // explicit secret (shown only as changed).
  nlohmann::ordered_json before;
  nlohmann::ordered_json after;
  // Attestation proves less, or more parties may read or change something.
  bool weakens = false;
  // Something is lost for good or stops working: a secret's value, a measurement running pods use.
  bool destructive = false;
  // The change concerns values a manifest wrote (environment values, injection file contents,
  // other settings) that CompareOptions::show_values did not allow to be shown.
  bool values_hidden = false;
};

struct CompareOptions {
  // Environment values and injection file contents are confidential to their service: a change
  // names the variable or file, and shows the values only when asked for (`diff --show-values`),
  // so that the output of a pipeline never carries them into its logs.
  bool show_values = false;
};

// The changes from `live` (the CAS's current version) to `proposed`, grouped by area in the order
// above, each group in document order. Empty when they say the same; the fields a CAS adds
// (`creator`, `predecessor`) are not compared.
[[nodiscard]] std::vector<Change> compare_sessions(const model::SessionDocument& live,
                                                   const model::SessionDocument& proposed,
                                                   const CompareOptions& options = {});

// The JSON form of a change (docs/diff.md, "JSON"): area, kind, subject, message, before, after,
// weakens, destructive, values_hidden.
[[nodiscard]] nlohmann::ordered_json to_json(const Change& change);

}  // namespace sconectl::diff
