#pragma once

#include "sconectl/cas/client.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::cas {

enum class UploadAction { created, updated, unchanged };
[[nodiscard]] const char* to_string(UploadAction action);

// The hash the CAS records for `sent` (with its `predecessor`, if any, already set) when it
// stores it with `creator`: the uploader's key hash for a new session, the current creator for an
// update (docs/cas.md, Session hash).
[[nodiscard]] std::string expected_hash(model::SessionDocument sent, const std::string& creator);

struct UploadedSession {
  std::string name;
  UploadAction action = UploadAction::unchanged;
  std::string hash;
  std::optional<std::string> predecessor;
};

// What applies from one target directory have seen on a CAS: per session, the hashes accepted,
// newest first. Kept in target/cas/sessions.json.
struct UploadRecord {
  std::string cas;                     // host:port
  std::optional<std::string> cas_key;  // the key hash it was pinned to, when it was
  std::map<std::string, std::vector<std::string>> chains;
};

[[nodiscard]] std::filesystem::path upload_record_file(const std::filesystem::path& target_dir);
// An empty record when the file does not exist yet.
[[nodiscard]] Result<UploadRecord> load_upload_record(const std::filesystem::path& target_dir);
[[nodiscard]] Result<void> save_upload_record(const std::filesystem::path& target_dir,
                                              const UploadRecord& record);

// The order in which sessions are uploaded: parents before children (the namespace first), and a
// session after those in the set it imports from, so the CAS can check every import. Otherwise
// the given order.
[[nodiscard]] std::vector<const model::Session*> upload_order(
    const std::vector<model::Session>& sessions);

struct UploadReport {
  std::string cas;                        // host:port
  std::vector<UploadedSession> sessions;  // in upload order
  std::vector<std::string> warnings;
};

// With `concurrency`, up to that many sessions are uploaded at once, each only after the sessions
// it must follow (its namespace, the sources it imports from, as upload_order places them) were
// accepted. After a failure no new request starts; those in flight finish, everything accepted is
// in `record`, and the error names every session that failed.
// For each session: read the CAS's current version; create the session when it is absent, skip it
// when its content is unchanged, otherwise update it with `predecessor` set to the current hash.
// Checks that the hash the CAS reports is the documented hash of what was sent (docs/cas.md).
// `own_key_hash` is this client's identity (the creator of sessions it creates). `record` is the
// previous upload record from this target directory: a session changed on the CAS by someone else
// since then is reported in the warnings. Updates `record` with every accepted hash.
// How many requests an upload keeps in flight, each on a connection of its own.
struct UploadConcurrency {
  std::size_t requests = 1;
  // Makes the transport of one more connection; without it, everything goes over `client`.
  std::function<Result<std::unique_ptr<HttpTransport>>()> another_transport;
};
inline constexpr std::size_t k_default_upload_concurrency = 16;

// `known`: the current versions of `sessions` as just read (e.g. by a plan, apply/plan_mesh.hpp),
// so they are not read again; an update is still refused by the CAS when the session changed since.
[[nodiscard]] Result<UploadReport> upload_sessions(CasClient& client,
                                                   const std::vector<model::Session>& sessions,
                                                   const std::string& own_key_hash,
                                                   UploadRecord& record,
                                                   const UploadConcurrency& concurrency = {},
                                                   const CurrentVersions* known = nullptr);

}  // namespace sconectl::cas
