#include "sconectl/verify/cas_checks.hpp"

#include "sconectl/cas/history.hpp"
#include "sconectl/diff/session_diff.hpp"
#include "sconectl/util/json_member.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace sconectl::verify {

namespace {

using Json = nlohmann::ordered_json;
using json::member;

bool is_reference(const Json& value)
{
  if (!value.is_string()) {
    return false;
  }
  const auto& text = value.get_ref<const std::string&>();
  return text.starts_with("$$SCONE::") && text.ends_with("$$") && text.size() > 11
         && text.find("$$", 9) == text.size() - 2;
}

std::string short_hash(const std::string& hash)
{
  return hash.substr(0, 16);
}

// The recorded hashes of `name`, newest first; empty when this target directory never uploaded
// it to this CAS.
const std::vector<std::string>& recorded_chain(const cas::UploadRecord& record,
                                               const std::string& name)
{
  static const std::vector<std::string> none;
  const auto found = record.chains.find(name);
  return found == record.chains.end() ? none : found->second;
}

void check_identity(const CasState& state,
                    const cas::UploadRecord& record,
                    std::vector<Finding>& findings)
{
  if (state.trust == "any") {
    findings.push_back({.severity = Severity::error,
                        .area = Area::cas,
                        .kind = "cas-not-pinned",
                        .subject = "CAS " + state.address,
                        .message = "the CAS's identity was not checked (it was attested with "
                                   "--only-for-testing-trust-any): anything it says proves "
                                   "nothing"});
  }
  if (record.cas_key && state.key_hash && *record.cas_key != *state.key_hash) {
    findings.push_back({.severity = Severity::error,
                        .area = Area::cas,
                        .kind = "cas-key-changed",
                        .subject = "CAS " + state.address,
                        .message = "the CAS is pinned to key " + *state.key_hash
                                   + ", but the uploads from this target directory went to key "
                                   + *record.cas_key});
  }
}

void check_current(const SessionState& session,
                   const model::Session& produced,
                   std::vector<Finding>& findings)
{
  if (session.versions.empty()) {
    findings.push_back({.severity = Severity::error,
                        .area = Area::cas,
                        .kind = "session-missing",
                        .subject = session.name,
                        .message = "the CAS has no session " + session.name
                                   + ": the manifests' policy is not in force"});
    return;
  }
  const auto& current = session.versions.front();
  // What the manifests produce, stored on the current predecessor by the current creator, must
  // hash to the CAS's hash: the hash covers the whole document, so equal hashes, equal content.
  model::SessionDocument expected = produced.document;
  expected.erase("predecessor");
  if (current.predecessor) {
    expected["predecessor"] = *current.predecessor;
  }
  if (cas::expected_hash(expected, current.creator) == current.hash) {
    return;
  }
  Finding finding{.severity = Severity::error,
                  .area = Area::cas,
                  .kind = "session-differs",
                  .subject = session.name,
                  .message = "the CAS's current version " + current.hash
                             + " is not what the manifests produce; it differs from them in:"};
  // From the approved document to the CAS's one, so "added" means the CAS has more. Both sides
  // redacted, so that a bundle checked offline (which holds only redacted versions) gives the
  // same report as the check that wrote it, and no value reaches a report.
  for (const auto& change : diff::compare_sessions(redact_session(produced.document),
                                                   redact_session(current.document))) {
    finding.details.push_back(std::string(diff::to_string(change.area)) + ": "
                              + (change.weakens || change.destructive ? "! " : "~ ")
                              + change.message + " [" + change.kind + "]");
  }
  if (finding.details.empty()) {
    // Values are compared redacted, so a changed value shows only in the hash.
    finding.details.push_back(
        "a value that is not shown (a secret, an environment value or an "
        "injection file) differs");
  }
  findings.push_back(std::move(finding));
}

void check_history(const SessionState& session,
                   const cas::UploadRecord& record,
                   std::vector<Finding>& findings)
{
  if (session.versions.empty()) {
    return;
  }
  const auto& recorded = recorded_chain(record, session.name);
  const std::set<std::string> known(recorded.begin(), recorded.end());
  std::set<std::string> in_chain;
  for (std::size_t i = 0; i < session.versions.size(); ++i) {
    const auto& version = session.versions[i];
    in_chain.insert(version.hash);
    // A chain read from a bundle must link as one read from the CAS does.
    if (i + 1 < session.versions.size()
        && version.predecessor != std::optional<std::string>(session.versions[i + 1].hash)) {
      findings.push_back({.severity = Severity::error,
                          .area = Area::history,
                          .kind = "history-broken",
                          .subject = session.name,
                          .message = "version " + version.hash + " does not name "
                                     + session.versions[i + 1].hash + " as its predecessor"});
    }
    if (!recorded.empty() && !known.contains(version.hash)) {
      findings.push_back({.severity = Severity::warning,
                          .area = Area::history,
                          .kind = "foreign-version",
                          .subject = session.name,
                          .message = "version " + version.hash + " (creator "
                                     + short_hash(version.creator)
                                     + "...) was not uploaded from this target directory: "
                                       "someone else uploaded it"});
    }
  }
  if (recorded.empty()) {
    findings.push_back({.severity = Severity::warning,
                        .area = Area::history,
                        .kind = "history-unrecorded",
                        .subject = session.name,
                        .message = "target/cas/sessions.json records no upload of this session to "
                                   "this CAS: its "
                                   + std::to_string(session.versions.size())
                                   + " versions were checked for integrity only"});
    return;
  }
  // The walk stops at the oldest recorded version; every recorded version must be on the way.
  if (session.truncated) {
    findings.push_back({.severity = Severity::warning,
                        .area = Area::history,
                        .kind = "history-truncated",
                        .subject = session.name,
                        .message = "stopped after " + std::to_string(session.versions.size())
                                   + " versions before reaching the oldest recorded one"});
    return;
  }
  for (const auto& hash : recorded) {
    if (!in_chain.contains(hash)) {
      findings.push_back({.severity = Severity::error,
                          .area = Area::history,
                          .kind = "recorded-version-missing",
                          .subject = session.name,
                          .message = "version " + hash
                                     + ", accepted from this target directory, is not in the "
                                       "CAS's history of the session: the history was "
                                       "rewritten"});
    }
  }
}

// SCONE's `tolerate` is a list, or a string of comma-separated values.
std::vector<std::string> listed(const Json& value)
{
  std::vector<std::string> items;
  auto add = [&items](std::string text) {
    const auto first = text.find_first_not_of(" \t");
    const auto last = text.find_last_not_of(" \t");
    if (first != std::string::npos) {
      items.push_back(text.substr(first, last - first + 1));
    }
  };
  if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_string()) {
        add(item.get<std::string>());
      }
    }
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = text.find(',', start);
      add(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) {
        break;
      }
      start = comma + 1;
    }
  }
  return items;
}

void lint_attestation(const std::string& session,
                      const std::string& field,
                      const Json& attestation,
                      Severity severity,
                      std::vector<Finding>& findings)
{
  auto add = [&](const std::string& kind, const std::string& at, const std::string& message) {
    findings.push_back({.severity = severity,
                        .area = Area::policy,
                        .kind = kind,
                        .subject = "session " + session + ": " + at,
                        .message = message});
  };
  for (const auto& toleration : listed(member(attestation, "tolerate"))) {
    if (toleration == "debug-mode") {
      add("tolerates-debug-mode",
          field + ".tolerate",
          "debug-mode is tolerated: a debug enclave's memory can be read by its host");
    } else if (toleration == "simulation") {
      add("tolerates-simulation",
          field + ".tolerate",
          "simulation is tolerated: a simulated program has no hardware protection and its "
          "measurement is self-reported");
    }
  }
  const auto advisories = listed(member(attestation, "ignore_advisories"));
  if (std::find(advisories.begin(), advisories.end(), "*") != advisories.end()) {
    add("ignores-all-advisories",
        field + ".ignore_advisories",
        "every security advisory is ignored (\"*\"), including those not yet published");
  }
  if (member(attestation, "mode") == "none") {
    add("attestation-mode-none",
        field + ".mode",
        "attestation mode none: the program is configured without any proof of what it is");
  }
}

}  // namespace

Result<CasState> read_cas_state(cas::CasClient& client,
                                const std::vector<std::string>& names,
                                const cas::UploadRecord& record,
                                std::size_t max_versions)
{
  CasState state;
  for (const auto& name : names) {
    const auto& recorded = recorded_chain(record, name);
    cas::HistoryOptions options{.max_versions = max_versions};
    if (!recorded.empty()) {
      options.stop_at.insert(recorded.back());
    }
    auto history = cas::read_history(client, name, options);
    if (!history) {
      return forward_error(std::move(history.error()), "reading the history of " + name);
    }
    SessionState session{.name = name};
    if (*history) {
      session.truncated = (*history)->truncated;
      for (auto& version : (*history)->versions) {
        auto document = model::parse_session_yaml(version.session);
        if (!document) {
          return forward_error(std::move(document.error()),
                               "session " + name + " version " + version.hash);
        }
        session.versions.push_back({.hash = std::move(version.hash),
                                    .predecessor = std::move(version.predecessor),
                                    .creator = std::move(version.creator),
                                    .document = std::move(*document)});
      }
    }
    state.sessions.push_back(std::move(session));
  }
  return state;
}

std::vector<Finding> check_cas(const CasState& state,
                               const std::vector<model::Session>& produced,
                               const cas::UploadRecord& record)
{
  std::vector<Finding> findings;
  check_identity(state, record, findings);
  std::map<std::string, const SessionState*> by_name;
  for (const auto& session : state.sessions) {
    by_name.emplace(session.name, &session);
  }
  for (const auto& session : produced) {
    const auto found = by_name.find(session.name);
    if (found == by_name.end()) {
      findings.push_back({.severity = Severity::error,
                          .area = Area::cas,
                          .kind = "session-not-read",
                          .subject = session.name,
                          .message = "the manifests produce this session, but it was not read "
                                     "from the CAS"});
      continue;
    }
    check_current(*found->second, session, findings);
    check_history(*found->second, record, findings);
  }
  return findings;
}

std::vector<Finding> lint_policies(const CasState& state, bool production)
{
  static const std::set<std::string> public_kinds{"public-key", "x509", "x509-ca"};
  const auto severity = production ? Severity::error : Severity::warning;
  std::vector<Finding> findings;
  for (const auto& session : state.sessions) {
    if (session.versions.empty()) {
      continue;
    }
    const auto& document = session.versions.front().document;
    lint_attestation(session.name,
                     "security.attestation",
                     member(member(document, "security"), "attestation"),
                     severity,
                     findings);
    lint_attestation(
        session.name, "attestation", member(document, "attestation"), severity, findings);
    const auto& services = member(document, "services");
    for (std::size_t i = 0; services.is_array() && i < services.size(); ++i) {
      const auto& attestation = member(services[i], "attestation");
      if (attestation.is_object()) {
        lint_attestation(session.name,
                         "services[" + std::to_string(i) + "].attestation",
                         attestation,
                         severity,
                         findings);
      }
    }
    const auto& secrets = member(document, "secrets");
    for (std::size_t i = 0; secrets.is_array() && i < secrets.size(); ++i) {
      const auto& secret = secrets[i];
      const auto kind = member(secret, "kind").is_string()
                            ? member(secret, "kind").get<std::string>()
                            : std::string("ascii");
      if (member(secret, "export_public") == true && !public_kinds.contains(kind)) {
        const auto name = member(secret, "name").is_string()
                              ? member(secret, "name").get<std::string>()
                              : std::to_string(i);
        findings.push_back({.severity = severity,
                            .area = Area::policy,
                            .kind = "secret-exported-to-everybody",
                            .subject = "session " + session.name + ": secrets[" + std::to_string(i)
                                       + "].export_public",
                            .message = "secret " + name + " (kind " + kind
                                       + ") is readable by anyone through /v1/values"});
      }
    }
    const auto& access = member(document, "access_policy");
    for (const char* operation : {"update", "create_sessions"}) {
      const auto entries = listed(member(access, operation));
      if (std::find(entries.begin(), entries.end(), "ANY") != entries.end()) {
        findings.push_back({.severity = severity,
                            .area = Area::policy,
                            .kind = "anyone-may-update",
                            .subject = "session " + session.name + ": access_policy." + operation,
                            .message = std::string("ANY may ") + operation
                                       + ": any client certificate can change this policy"});
      }
    }
  }
  return findings;
}

model::SessionDocument redact_session(const model::SessionDocument& document)
{
  auto redacted = document;
  if (auto secrets = redacted.find("secrets"); secrets != redacted.end() && secrets->is_array()) {
    for (auto& secret : *secrets) {
      if (!secret.is_object()) {
        continue;
      }
      if (secret.contains("value")) {
        secret["value"] = k_redacted;
      }
      for (const auto* credential : model::k_secret_credential_fields) {
        if (secret.contains(credential)) {
          secret[credential] = k_redacted;
        }
      }
    }
  }
  auto redact_files = [](Json& owner) {
    if (auto files = owner.find("injection_files"); files != owner.end() && files->is_array()) {
      for (auto& file : *files) {
        if (file.is_object() && file.contains("content")) {
          file["content"] = k_redacted;
        }
      }
    }
  };
  if (auto services = redacted.find("services");
      services != redacted.end() && services->is_array()) {
    for (auto& service : *services) {
      if (!service.is_object()) {
        continue;
      }
      if (auto environment = service.find("environment");
          environment != service.end() && environment->is_object()) {
        for (auto& [name, value] : environment->items()) {
          // `\@\@NAME` entries pass the host's value through; what the session writes is ignored.
          if (!is_reference(value) && !value.is_null()) {
            value = k_redacted;
          }
        }
      }
      redact_files(service);
    }
  }
  if (auto images = redacted.find("images"); images != redacted.end() && images->is_array()) {
    for (auto& image : *images) {
      if (image.is_object()) {
        redact_files(image);
      }
    }
  }
  return redacted;
}

}  // namespace sconectl::verify
