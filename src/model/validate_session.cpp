#include "sconectl/manifest/names.hpp"
#include "sconectl/manifest/secret_reference.hpp"
#include "sconectl/yaml/convert.hpp"
#include "session_checker.hpp"

namespace sconectl::model {

namespace detail {

namespace {

constexpr const char* k_top_level_attestation =
    "is not a top-level key of a session: SCONE reads attestation settings from "
    "security.attestation (the whole session, e.g. mode: none) or services[].attestation (one "
    "service)";

}  // namespace

const Json* SessionChecker::string_field(const Json& object,
                                         const char* key,
                                         const std::string& path,
                                         bool required)
{
  if (!object.is_object() || !object.contains(key)) {
    if (required) {
      problem(path.empty() ? key : path + "." + key, "is required");
    }
    return nullptr;
  }
  const auto& value = object.at(key);
  if (!value.is_string()) {
    problem(path.empty() ? key : path + "." + key,
            value.is_number() || value.is_boolean()
                ? "expected a string; quote it (CAS reads " + value.dump() + " as a "
                      + (value.is_boolean() ? "boolean" : "number") + ")"
                : std::string("expected a string"));
    return nullptr;
  }
  return &value;
}

// Whether `value` is a whole section given as `$$SCONE::name$$`, to be checked once every secret
// is known.
bool SessionChecker::fragment_use(const Json& value, const std::string& path)
{
  auto name = fragment_placeholder(value);
  if (name) {
    m_placeholders.push_back({.path = path, .secret = std::move(*name), .whole_section = true});
  }
  return name.has_value();
}

// Whether `value`, an entry of a list section, is one placeholder and nothing else: any secret
// in one of its formats (SCONE merges a config-fragment's list into the list). Called once every
// secret is known.
bool SessionChecker::entry_use(const Json& value, const std::string& path)
{
  if (!value.is_string()) {
    return false;
  }
  const auto text = value.get<std::string>();
  const auto scan = manifest::find_secret_references(text);
  if (!scan.problems.empty() || scan.references.size() != 1
      || scan.references.front().text != text) {
    return false;
  }
  check_references(text, path);
  m_placeholders.push_back(
      {.path = path, .secret = scan.references.front().name, .whole_section = false});
  return true;
}

// The lists of access_policy given as a config fragment (the entries are the local CAS's to
// check: which principals it honours).
void SessionChecker::check_access_policy_sections()
{
  if (!m_session.contains("access_policy")) {
    return;
  }
  const auto& policy = m_session.at("access_policy");
  if (fragment_use(policy, "access_policy") || !policy.is_object()) {
    return;
  }
  for (const auto& [operation, list] : policy.items()) {
    fragment_use(list, "access_policy." + operation);
  }
}

void SessionChecker::check_fragment_uses()
{
  for (const auto& [path, name, whole_section] : m_placeholders) {
    if (!whole_section) {
      continue;  // checked as a reference where it was found
    }
    const auto found = m_secrets.find(name);
    if (found == m_secrets.end()) {
      problem(path,
              "$$SCONE::" + name + "$$ names secret '" + name
                  + "', which this session neither defines nor imports");
    } else if (found->second.kind) {
      problem(path,
              "$$SCONE::" + name + "$$ names secret '" + name + "' of kind "
                  + std::string(manifest::to_string(*found->second.kind))
                  + "; a section is replaced only by a config-fragment");
    }
  }
}

const Json* SessionChecker::list_field(const Json& object, const char* key)
{
  if (!object.contains(key)) {
    return nullptr;
  }
  if (!object.at(key).is_array()) {
    problem(key, "expected a list");
    return nullptr;
  }
  return &object.at(key);
}

void SessionChecker::check_header()
{
  string_field(m_session, "version", "", true);
  // Scontain's args-env README writes `attestation: mode: ...` at the top level, where SCONE
  // does not read it.
  if (m_session.is_object() && m_session.contains("attestation")) {
    problem("attestation", k_top_level_attestation);
  }
  if (const auto* name = string_field(m_session, "name", "", true)) {
    const auto text = name->get<std::string>();
    if (const auto rule = manifest::check_session_name(text); !rule.empty()) {
      problem("name", "'" + text + "' is not a valid session name; expected " + rule);
    }
  }
  if (m_session.contains("salt")) {
    const auto& salt = m_session.at("salt");
    if (!salt.is_string() || !manifest::is_hex(salt.get<std::string>(), 32)) {
      problem("salt", "expected 16 bytes as 32 hex digits");
    }
  }
  if (m_session.contains("namespace_hash")) {
    const auto& hash = m_session.at("namespace_hash");
    if (!hash.is_string() || !manifest::is_hex(hash.get<std::string>(), 64)) {
      problem("namespace_hash", "expected the 64 hex digit hash of the parent namespace session");
    } else if (m_session.contains("predecessor")) {
      problem("namespace_hash",
              "is checked when a session is created and cannot be combined with predecessor");
    }
  }
  if (m_session.contains("predecessor")) {
    const auto& predecessor = m_session.at("predecessor");
    if (!predecessor.is_string() || !manifest::is_hex(predecessor.get<std::string>(), 64)) {
      problem("predecessor", "expected the 64 hex digit hash of the session it replaces");
    }
  }
}

void SessionChecker::check_security()
{
  if (!m_session.contains("security")) {
    return;
  }
  const auto& security = m_session.at("security");
  if (fragment_use(security, "security")) {
    return;
  }
  if (!security.is_object()) {
    problem("security", "expected a mapping");
    return;
  }
  if (const auto* token = string_field(security, "service_access_token", "security", false);
      token && token->get<std::string>().empty()) {
    problem("security.service_access_token", "must not be empty");
  }
  if (security.contains("singleton_enclaves") && !security.at("singleton_enclaves").is_boolean()) {
    problem("security.singleton_enclaves", "expected true or false");
  }
  if (!security.contains("attestation")
      || fragment_use(security.at("attestation"), "security.attestation")) {
    return;
  }
  const auto& attestation = security.at("attestation");
  if (!attestation.is_object()) {
    problem("security.attestation", "expected a mapping");
    return;
  }
  // Their values are the local CAS's to check; a secret may stand for the list or an entry.
  for (const char* key : {"tolerate", "ignore_advisories"}) {
    const auto path = std::string("security.attestation.") + key;
    if (!attestation.contains(key) || fragment_use(attestation.at(key), path)
        || !attestation.at(key).is_array()) {
      continue;
    }
    const auto& list = attestation.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      entry_use(list[i], path + "[" + std::to_string(i) + "]");
    }
  }
}

void SessionChecker::check_references(const std::string& text, const std::string& path)
{
  const auto scan = manifest::find_secret_references(text);
  for (const auto& message : scan.problems) {
    problem(path, message);
  }
  for (const auto& reference : scan.references) {
    const auto found = m_secrets.find(reference.name);
    if (found == m_secrets.end()) {
      problem(path,
              reference.text + " names secret '" + reference.name
                  + "', which this session neither defines nor imports");
      continue;
    }
    const bool valid = found->second.kind
                           ? manifest::is_valid_format(*found->second.kind, reference.format)
                           : manifest::is_known_format(reference.format);
    if (!valid) {
      problem(path,
              reference.text + ": '" + reference.format + "' is not a format of secret '"
                  + reference.name + "'");
    }
  }
}

}  // namespace detail

std::optional<std::string> fragment_placeholder(const SessionDocument& value)
{
  if (!value.is_string()) {
    return std::nullopt;
  }
  const auto text = value.get<std::string>();
  const auto scan = manifest::find_secret_references(text);
  if (!scan.problems.empty() || scan.references.size() != 1) {
    return std::nullopt;
  }
  const auto& reference = scan.references.front();
  if (reference.text != text || !reference.format.empty() || !reference.filter.empty()) {
    return std::nullopt;
  }
  return reference.name;
}

std::vector<SectionPlaceholder> section_placeholders(const SessionDocument& session)
{
  const SessionLookup none = [](const std::string&) { return nullptr; };
  detail::SessionChecker checker(session, none, MissingSources::allowed);
  (void)checker.run();
  return checker.placeholders();
}

std::optional<unsigned> file_permission(const SessionDocument& value)
{
  if (!value.is_string()) {
    return std::nullopt;
  }
  auto text = value.get<std::string>();
  if (text.starts_with("0o") || text.starts_with("0O")) {
    text = text.substr(2);
  }
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos) {
    return std::nullopt;
  }
  const auto mode = static_cast<unsigned>(std::stoul(text, nullptr, 8));
  return mode <= 0777 ? std::optional<unsigned>(mode) : std::nullopt;
}

std::string to_yaml(const SessionDocument& session)
{
  return yaml::to_yaml(session);
}

Result<SessionDocument> parse_session_yaml(std::string_view text)
{
  return yaml::parse_yaml(text);
}

std::string format(const SessionProblem& problem)
{
  std::string text = "session '" + problem.session + "'";
  if (!problem.path.empty()) {
    text += ": " + problem.path;
  }
  return text + ": " + problem.message;
}

std::vector<SessionProblem> validate_session(const SessionDocument& session,
                                             const SessionLookup& others,
                                             MissingSources missing)
{
  return detail::SessionChecker(session, others, missing).run();
}

std::vector<SessionProblem> validate_sessions(const std::vector<Session>& sessions)
{
  std::map<std::string, const SessionDocument*> by_name;
  for (const auto& session : sessions) {
    by_name.emplace(session.name, &session.document);
  }
  const SessionLookup lookup = [&](const std::string& name) -> const SessionDocument* {
    const auto found = by_name.find(name);
    return found == by_name.end() ? nullptr : found->second;
  };
  std::vector<SessionProblem> problems;
  for (const auto& session : sessions) {
    auto found = validate_session(session.document, lookup);
    problems.insert(problems.end(), found.begin(), found.end());
  }
  return problems;
}

}  // namespace sconectl::model
