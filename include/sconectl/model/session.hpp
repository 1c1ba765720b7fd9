#pragma once

#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The CAS session document: the one model of a session that the policy generator, the CAS
// client, the local CAS and the runtime share. Pure data and checks: no Docker, no mesh, no I/O.
namespace sconectl::model {

// The CAS session language version every generated session declares.
inline constexpr const char* k_session_language_version = "0.3.10";

// The fields of a secret's definition that hold credentials a manifest gives (an aad-token's
// application secret, tenant and client): kept out of every report, as a secret's value is.
inline constexpr std::array<const char*, 3> k_secret_credential_fields = {
    "application_secret", "tenant_id", "client_id"};

// A session document. Keys keep the order they were written in, so the YAML is stable and reads
// top-down (version, name, access, services, images, secrets, volumes, security).
using SessionDocument = nlohmann::ordered_json;

struct Session {
  std::string name;
  SessionDocument document;
};

// Session YAML as CAS reads it (see yaml::to_yaml: every string double-quoted, since CAS rejects
// unquoted values where it expects strings).
[[nodiscard]] std::string to_yaml(const SessionDocument& session);

// The hash that identifies one version of a session (docs/cas.md, "Session hash"): SHA-256, as 64
// lower-case hex digits, of the document's canonical JSON (keys sorted at every level, no
// whitespace, UTF-8). CAS stores sessions with `creator` and `predecessor` set, and those are part
// of what is hashed, so two versions with the same content still have different hashes.
[[nodiscard]] std::string session_hash(const SessionDocument& session);

// The definition of secret `name` in `session` (its entry of `secrets` with that name), or nullptr.
// Entries that are not mappings, or whose name is not a string, are skipped.
[[nodiscard]] const SessionDocument* find_secret(const SessionDocument& session,
                                                 const std::string& name);

// The absolute names of the sessions that `session` imports secrets from (sorted, unique).
[[nodiscard]] std::vector<std::string> imported_sessions(const SessionDocument& session);

// The mode of an injection file's `permission` ("0o700", or "0700"), or std::nullopt when it is
// not an octal mode of at most 0o777.
[[nodiscard]] std::optional<unsigned> file_permission(const SessionDocument& value);

// The kind of a secret whose value is a piece of the session itself (a YAML mapping), put in the
// place of a `$$SCONE::name$$` that stands for a whole section, e.g. `access_policy:
// $$SCONE::policy$$`.
inline constexpr const char* k_config_fragment = "config-fragment";

// For a section given as `$$SCONE::name$$` (a config fragment in its place): the secret's name.
// std::nullopt for anything else, including a placeholder with a format or a filter.
[[nodiscard]] std::optional<std::string> fragment_placeholder(const SessionDocument& value);

// A `$$SCONE::name$$` that stands where the session language expects a section or an entry of a
// list section. SCONE (language 0.3.10) lets a secret stand in such places, "in configuration
// sections that support it": a config-fragment in place of a section (`environment:
// $$SCONE::env$$`), and a secret in place of a list entry, the lists being merged
// (`mrenclave: [<hex>, $$SCONE::more$$]`). Its documentation names the service attestation section
// and its tutorials use access_policy and security; the other places where a section or a list
// is written are taken to accept one too, so a local CAS can name them as unsupported rather than
// calling them malformed.
struct SectionPlaceholder {
  std::string path;           // "services[0].environment", "services[0].attestation.mrenclave[1]"
  std::string secret;         // its name
  bool whole_section = true;  // false: an entry of a list section
};

// Every section placeholder of `session`, as validate_session finds them (it checks each: a
// section names a config-fragment the session defines or imports; an entry names any secret it
// defines or imports, in one of the secret's formats).
[[nodiscard]] std::vector<SectionPlaceholder> section_placeholders(const SessionDocument& session);

// Parses session YAML (as uploaded to a CAS) into a document; errors name line and column.
[[nodiscard]] Result<SessionDocument> parse_session_yaml(std::string_view text);

struct SessionProblem {
  std::string session;
  std::string path;  // e.g. "services[0].environment.API_PASSWORD"
  std::string message;
};

[[nodiscard]] std::string format(const SessionProblem& problem);

// Finds another session by name, for checking imports; nullptr when it is unknown.
using SessionLookup = std::function<const SessionDocument*(const std::string& name)>;

// Checks one session: names, services (command, pwd, attestation, image_name), secrets (kinds,
// references from command, environment and injection files, private_key and issuer links) and,
// through `others`, that every import names a secret the other session exports to this one.
// The client runs it before writing, the local CAS before storing.
// What an import from a session that `others` does not know means. In a set uploaded together it
// is a mistake; a CAS accepts it, because sessions that import from each other (a cycle) cannot
// all be created after their sources: the import is checked again when the secret is resolved.
enum class MissingSources { problem, allowed };

[[nodiscard]] std::vector<SessionProblem> validate_session(
    const SessionDocument& session,
    const SessionLookup& others,
    MissingSources missing = MissingSources::problem);

// validate_session over a set that is uploaded together (imports resolve within the set).
[[nodiscard]] std::vector<SessionProblem> validate_sessions(const std::vector<Session>& sessions);

}  // namespace sconectl::model
