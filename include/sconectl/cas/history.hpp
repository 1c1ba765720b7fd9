#pragma once

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/client.hpp"
#include "sconectl/util/error.hpp"

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sconectl::cas {

struct HistoryOptions {
  std::size_t max_versions = 1000;
  // Stop after reaching one of these versions (e.g. the oldest one an upload record knows):
  // what lies before it is not needed.
  std::set<std::string> stop_at;
};

struct SessionHistory {
  std::vector<SessionRecord> versions;  // newest (the current version) first
  bool truncated = false;               // stopped at max_versions with more before
};

// Reads a session's versions by walking its predecessor chain from the current version. Each
// answer is checked (verify_session_record), so the chain is one the CAS cannot splice together
// from other histories. Stops after a version that names no predecessor, after a version in
// `stop_at`, or after `max_versions`. std::nullopt when the session does not exist; an error
// (kind server) when the chain loops back to a version already read.
[[nodiscard]] Result<std::optional<SessionHistory>> read_history(
    CasClient& client, const std::string& name, const HistoryOptions& options = {});

}  // namespace sconectl::cas
