#pragma once

#include "sconectl/util/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The CAS REST API as this project speaks it, client and server alike (docs/cas.md, "API").
namespace sconectl::cas {

inline constexpr int k_default_port = 8081;
inline constexpr std::string_view k_sessions_path = "/v1/sessions";
inline constexpr std::string_view k_values_path = "/v1/values/";
inline constexpr std::string_view k_version_path = "/v1/version";
// The local CAS's batch read of current versions (not part of SCONE's CAS API: clients fall back
// to one GET per session where it is missing).
inline constexpr std::string_view k_current_versions_path = "/v1/session-versions";
inline constexpr std::size_t k_max_current_versions = 10000;  // names per request
inline constexpr std::string_view k_session_content_type = "application/yaml";

// One stored version of a session, as `GET /v1/sessions/<name>` returns it. `session` is the YAML
// as stored, with `creator` (the uploader's key hash) and, for updates, `predecessor` filled in.
struct SessionRecord {
  std::string name;
  std::string hash;
  std::optional<std::string> predecessor;
  std::string creator;
  std::string session;
};

[[nodiscard]] nlohmann::json to_json(const SessionRecord& record);
[[nodiscard]] Result<SessionRecord> session_record_from_json(const nlohmann::json& json);

// `POST /v1/session-versions` with {"names": [...]}: for each name the requester may read, its
// current version ({"hash", "predecessor", "creator"}), or null when the session does not exist.
// Names it may not read are left out of the answer.
struct CurrentVersion {
  std::string hash;
  std::optional<std::string> predecessor;
  std::string creator;
};
using CurrentVersions = std::map<std::string, std::optional<CurrentVersion>>;

[[nodiscard]] nlohmann::json to_json(const CurrentVersions& versions);
[[nodiscard]] Result<CurrentVersions> current_versions_from_json(const nlohmann::json& json);

// What `POST /v1/sessions` answers: 201 for a new session, 200 for an update.
struct UploadReceipt {
  std::string name;
  std::string hash;
  std::optional<std::string> predecessor;
};

[[nodiscard]] nlohmann::json to_json(const UploadReceipt& receipt);
[[nodiscard]] Result<UploadReceipt> upload_receipt_from_json(const nlohmann::json& json);

// Error bodies: {"msg": ["<what failed>", "<cause>", ...]}; a 409 also carries "current", the hash
// the predecessor had to match.
[[nodiscard]] std::string error_body(const std::vector<std::string>& messages,
                                     const std::optional<std::string>& current_hash = std::nullopt);
// The messages of an error body joined with ": ", or the body itself (shortened) when it is not
// one.
[[nodiscard]] std::string error_message(std::string_view body);
// The messages of an error body, in order; empty when it is not one.
[[nodiscard]] std::vector<std::string> error_messages(std::string_view body);
[[nodiscard]] std::optional<std::string> conflict_current_hash(std::string_view body);

// "host" or "host:port" (IPv6 as "[::1]:port") to host and port, the port defaulting to 8081.
struct CasAddress {
  std::string host;
  int port = k_default_port;
  [[nodiscard]] std::string authority() const;  // host:port, IPv6 in brackets
};
[[nodiscard]] Result<CasAddress> parse_cas_address(std::string_view text);

}  // namespace sconectl::cas
