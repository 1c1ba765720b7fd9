#pragma once

#include "sconectl/cas/client.hpp"
#include "sconectl/cas/upload.hpp"
#include "sconectl/diff/session_diff.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

// What `apply -f mesh.yaml` would do to the CAS, worked out without changing it: per session
// whether it is created, updated, left alone, or no longer produced; the hash the CAS holds now
// and the hash the upload would store; what an update changes, grouped by risk.
namespace sconectl::apply {

enum class PlanAction {
  create,     // the CAS has no such session
  update,     // the CAS has another version
  unchanged,  // the CAS has exactly this version
  orphaned,   // uploaded from this target directory before, still on the CAS, no longer produced
};
[[nodiscard]] const char* to_string(PlanAction action);

struct SessionPlan {
  std::string name;
  PlanAction action = PlanAction::unchanged;
  // The CAS's current version: what an update names as its predecessor. Absent for a create.
  std::optional<std::string> current_hash;
  // The exact hash the CAS records for the upload (create, update); the current hash otherwise.
  std::optional<std::string> planned_hash;
  // The newest hash sessions.json records for this session on this CAS, if any. When it is not
  // the current hash, someone else changed the session since the last apply from here.
  std::optional<std::string> recorded_hash;
  std::vector<diff::Change> changes;  // for an update, grouped by risk

  [[nodiscard]] bool changed_elsewhere() const
  {
    return recorded_hash && current_hash && *recorded_hash != *current_hash;
  }
};

struct MeshPlan {
  std::string cas;                    // host:port
  std::vector<SessionPlan> sessions;  // in upload order, then the orphaned ones by name
  // The current versions as read (null: absent), for an upload that follows the plan.
  cas::CurrentVersions current_versions;

  // Anything to upload, or a session no longer produced.
  [[nodiscard]] bool has_changes() const;
};

// Images by service name ("ns/svc" session, service name), so a measurement can be named with
// the image it belongs to.
using ServiceImages = std::map<std::string, std::string>;

// Works out the plan of uploading `sessions` as the signed-in client `own_key_hash`: one batch
// read of the current versions (cas::CasClient::current_versions), then a GET only for sessions
// whose hash differs; on a CAS without batch reads (SCONE's), one GET per session. `record` is
// target/cas/sessions.json (cas::load_upload_record): its sessions for this CAS (`cas`) that the
// manifests no longer produce and the CAS still holds are reported as orphaned. Uploads nothing.
// `images`: the image each service's measurement comes from, keyed by "<session>/<service>",
// added to the measurement changes. `compare`: whether the changes show the values a manifest
// wrote (diff --show-values); by default they only name them.
[[nodiscard]] Result<MeshPlan> plan_mesh(cas::CasClient& client,
                                         const std::vector<model::Session>& sessions,
                                         const std::string& own_key_hash,
                                         const cas::UploadRecord& record,
                                         const std::string& cas,
                                         const ServiceImages& images = {},
                                         const diff::CompareOptions& compare = {});

// The plan as JSON (docs/diff.md, "JSON"): schema version, CAS, a summary, and per session its
// action, hashes, concurrency note and changes. Never holds an explicit secret value.
[[nodiscard]] nlohmann::ordered_json to_json(const MeshPlan& plan);

// The risk lines an upload prints before it starts: secrets regenerated, measurements dropped,
// tolerations and other weakening changes, sessions someone else changed. One line each.
[[nodiscard]] std::vector<std::string> risk_lines(const MeshPlan& plan);

// What `--mode production` refuses without an explicit flag.
struct RiskConsent {
  bool secret_regeneration = false;  // --allow-secret-regeneration
  bool weaker_attestation = false;   // --allow-weaker-attestation
};
// An error of kind usage naming each session and change that needs a flag, and the flag; success
// when there is none or the flag is given.
[[nodiscard]] Result<void> check_consent(const MeshPlan& plan, const RiskConsent& consent);

// A reviewed plan as `diff --out` writes it: per session to upload, the hash expected on the CAS
// now (null: absent) and the hash the upload stores.
struct ReviewedSession {
  std::string name;
  std::optional<std::string> current_hash;
  std::string planned_hash;
};
struct ReviewedPlan {
  std::string cas;
  std::vector<ReviewedSession> sessions;
};
[[nodiscard]] ReviewedPlan reviewed(const MeshPlan& plan);
// Writes `plan` to `file` atomically, mode 0600.
[[nodiscard]] Result<void> save_reviewed_plan(const std::filesystem::path& file,
                                              const ReviewedPlan& plan);
[[nodiscard]] Result<ReviewedPlan> load_reviewed_plan(const std::filesystem::path& file);
// Empty when `now` (the plan worked out just before uploading) does exactly what `reviewed`
// says; otherwise one line per session that differs, naming it and both hashes.
[[nodiscard]] std::vector<std::string> plan_mismatches(const ReviewedPlan& reviewed,
                                                       const MeshPlan& now);

}  // namespace sconectl::apply
