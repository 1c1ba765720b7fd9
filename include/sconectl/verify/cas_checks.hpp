#pragma once

#include "sconectl/cas/client.hpp"
#include "sconectl/cas/upload.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/verify/finding.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

// The CAS side of `sconectl verify`: what the CAS holds for the sessions the manifests produce,
// read once (online) or from an evidence bundle (offline), and the checks made on it.
namespace sconectl::verify {

struct SessionVersion {
  std::string hash;
  std::optional<std::string> predecessor;
  std::string creator;
  // The document as stored. In an evidence bundle its secret values, environment values and
  // injection file contents are redacted (redact_session), so `hash` cannot be recomputed from it.
  model::SessionDocument document;
};

struct SessionState {
  std::string name;
  std::vector<SessionVersion> versions;  // newest (current) first; empty: not on the CAS
  bool truncated = false;                // the walk stopped at its bound with more before
};

struct CasState {
  std::string address;                  // host:port
  std::string trust;                    // how the CAS was trusted: cas::to_string(TrustMode)
  std::optional<std::string> key_hash;  // the key it was pinned to, when it was
  std::string certificate;              // PEM chain it presented when attested; may be empty
  std::vector<SessionState> sessions;   // in the order the manifests produce them
};

// Reads the current version of each of `names` and walks its history back to the oldest hash
// `record` (target/cas/sessions.json) knows for it, or to its first version, at most
// `max_versions` each. Every version read is checked (cas::read_history).
[[nodiscard]] Result<CasState> read_cas_state(cas::CasClient& client,
                                              const std::vector<std::string>& names,
                                              const cas::UploadRecord& record,
                                              std::size_t max_versions);

// The CAS checks of `verify` (docs/verify.md): each produced session is the current version
// (the hash of what the manifests produce, on the current predecessor and creator, is the CAS's
// hash), with the semantic changes when it is not; every version in the chain back to the first
// one recorded was accepted from this target directory (others are listed by hash); recorded
// versions are still in the chain; the CAS is pinned, to the key recorded with the uploads.
[[nodiscard]] std::vector<Finding> check_cas(const CasState& state,
                                             const std::vector<model::Session>& produced,
                                             const cas::UploadRecord& record);

// The production lint of the current sessions: tolerated debug mode or simulation, all
// advisories ignored, attestation mode none, a non-public secret exported to everybody, an access
// policy that lets anyone update. Errors with `production`, warnings otherwise; each names the
// session and the field.
[[nodiscard]] std::vector<Finding> lint_policies(const CasState& state, bool production);

// A copy of `document` that holds no value a manifest or the CAS could keep secret: explicit
// secret values, environment values other than $$SCONE::...$$ references, injection file
// contents, each replaced by k_redacted.
inline constexpr const char* k_redacted = "(redacted)";
[[nodiscard]] model::SessionDocument redact_session(const model::SessionDocument& document);

}  // namespace sconectl::verify
