#include "sconectl/manifest/names.hpp"
#include "sconectl/manifest/secret_reference.hpp"
#include "sconectl/model/export_match.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/yaml/convert.hpp"

#include <map>
#include <set>

namespace sconectl::model {

namespace {

using Json = SessionDocument;

// What a session knows about one of its secrets.
struct SecretInfo {
  std::optional<manifest::SecretKind> kind;  // empty when imported (defined elsewhere)
  bool imported = false;
  bool fragment = false;  // kind config-fragment
};

constexpr const char* k_top_level_attestation =
    "is not a top-level key of a session: SCONE reads attestation settings from "
    "security.attestation (the whole session, e.g. mode: none) or services[].attestation (one "
    "service)";

class SessionChecker {
 public:
  SessionChecker(const Json& session, const SessionLookup& others, MissingSources missing)
      : m_session(session), m_others(others), m_missing(missing)
  {
    if (session.contains("name") && session.at("name").is_string()) {
      m_name = session.at("name").get<std::string>();
    }
  }

  std::vector<SessionProblem> run()
  {
    if (!m_session.is_object()) {
      problem("", "a session must be a mapping");
      return std::move(m_problems);
    }
    check_header();
    check_secrets();  // first: what follows checks the placeholders that name them
    check_security();
    check_images();
    check_services();
    check_access_policy_sections();
    check_fragment_uses();
    return std::move(m_problems);
  }

  [[nodiscard]] const std::vector<SectionPlaceholder>& placeholders() const
  {
    return m_placeholders;
  }

 private:
  void problem(std::string path, std::string message)
  {
    m_problems.push_back(
        {.session = m_name, .path = std::move(path), .message = std::move(message)});
  }

  const Json* string_field(const Json& object,
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
  bool fragment_use(const Json& value, const std::string& path)
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
  bool entry_use(const Json& value, const std::string& path)
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
  void check_access_policy_sections()
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

  void check_fragment_uses()
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

  const Json* list_field(const Json& object, const char* key)
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

  void check_header()
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

  void check_security()
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
    if (security.contains("singleton_enclaves")
        && !security.at("singleton_enclaves").is_boolean()) {
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

  void check_secrets()
  {
    const auto* secrets = list_field(m_session, "secrets");
    if (secrets == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < secrets->size(); ++i) {
      const auto& secret = (*secrets)[i];
      const auto path = "secrets[" + std::to_string(i) + "]";
      const auto* name = string_field(secret, "name", path, true);
      if (name == nullptr) {
        continue;
      }
      const auto text = name->get<std::string>();
      if (const auto rule = manifest::check_secret_name(text); !rule.empty()) {
        problem(path + ".name", "'" + text + "' is not a valid secret name; expected " + rule);
      }
      SecretInfo info;
      if (secret.contains("import")) {
        info.imported = true;
        check_import(secret.at("import"), path + ".import");
      } else if (const auto* kind = string_field(secret, "kind", path, true);
                 kind && kind->get<std::string>() == k_config_fragment) {
        info.fragment = true;
        if (!secret.contains("value")) {
          problem(path + ".value",
                  "is required: a config-fragment is the YAML mapping or list given here (or "
                  "imported)");
        } else if (!secret.at("value").is_structured()) {
          problem(path + ".value",
                  "expected a YAML mapping or list (the structured piece of a session it stands "
                  "for)");
        }
      } else if (kind
                 && (kind->get<std::string>() == "jwt"
                     || kind->get<std::string>() == "session-ca")) {
        // Kinds of SCONE's session language that sconectl does not generate itself; the local
        // CAS says whether it supports them.
      } else if (kind) {
        info.kind = manifest::secret_kind_from(kind->get<std::string>());
        if (!info.kind) {
          problem(path + ".kind", "unknown secret kind '" + kind->get<std::string>() + "'");
        }
      }
      if (secret.contains("size") && !secret.at("size").is_number_unsigned()) {
        problem(path + ".size", "expected a non-negative integer");
      }
      if (!m_secrets.emplace(text, info).second) {
        problem(path + ".name", "secret '" + text + "' is defined twice");
      }
    }
    // Links between secrets, once all names are known.
    for (std::size_t i = 0; i < secrets->size(); ++i) {
      const auto& secret = (*secrets)[i];
      const auto path = "secrets[" + std::to_string(i) + "]";
      check_link(secret, "private_key", manifest::SecretKind::private_key, path);
      check_link(secret, "issuer", manifest::SecretKind::x509_ca, path);
    }
  }

  void check_link(const Json& secret,
                  const char* key,
                  manifest::SecretKind expected,
                  const std::string& path)
  {
    const auto* target = string_field(secret, key, path, false);
    if (target == nullptr) {
      return;
    }
    const auto name = target->get<std::string>();
    const auto found = m_secrets.find(name);
    if (found == m_secrets.end()) {
      problem(path + "." + key,
              "names secret '" + name + "', which this session neither defines nor imports");
    } else if (found->second.fragment) {
      problem(path + "." + key,
              "names secret '" + name + "' of kind config-fragment; expected kind "
                  + std::string(manifest::to_string(expected)));
    } else if (found->second.kind && *found->second.kind != expected) {
      problem(path + "." + key,
              "names secret '" + name + "' of kind "
                  + std::string(manifest::to_string(*found->second.kind)) + "; expected kind "
                  + std::string(manifest::to_string(expected)));
    }
  }

  void check_import(const Json& import, const std::string& path)
  {
    const auto* session = string_field(import, "session", path, true);
    const auto* secret = string_field(import, "secret", path, true);
    if (session == nullptr || secret == nullptr) {
      return;
    }
    const auto source = absolute_session_name(session->get<std::string>(), m_name);
    const auto name = secret->get<std::string>();
    const auto* other = m_others ? m_others(source) : nullptr;
    if (other == nullptr) {
      if (m_missing == MissingSources::problem) {
        problem(path + ".session", "imports from session '" + source + "', which does not exist");
      }
      return;
    }
    if (!other->contains("secrets") || !other->at("secrets").is_array()) {
      problem(path + ".secret", "session '" + source + "' defines no secret '" + name + "'");
      return;
    }
    for (const auto& candidate : other->at("secrets")) {
      if (!candidate.is_object() || candidate.value("name", "") != name) {
        continue;
      }
      for (const auto& [exported, at] : export_entries(candidate)) {
        const auto& entry = *exported;
        if (!entry.is_object()) {
          continue;
        }
        const auto session_of = [&](const char* key) -> std::optional<std::string> {
          if (entry.contains(key) && entry.at(key).is_string()) {
            return entry.at(key).get<std::string>();
          }
          return std::nullopt;
        };
        if (export_reaches(session_of("session"), session_of("namespace"), source, m_name)) {
          return;
        }
      }
      problem(path + ".secret",
              "session '" + source + "' does not export secret '" + name + "' to '" + m_name + "'");
      return;
    }
    problem(path + ".secret", "session '" + source + "' defines no secret '" + name + "'");
  }

  void check_images()
  {
    const auto* images = list_field(m_session, "images");
    if (images == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < images->size(); ++i) {
      const auto& image = (*images)[i];
      const auto path = "images[" + std::to_string(i) + "]";
      if (const auto* name = string_field(image, "name", path, true);
          name && !m_images.insert(name->get<std::string>()).second) {
        problem(path + ".name", "image '" + name->get<std::string>() + "' is defined twice");
      }
      if (!image.contains("injection_files")
          || fragment_use(image.at("injection_files"), path + ".injection_files")) {
        continue;
      }
      const auto& files = image.at("injection_files");
      if (!files.is_array()) {
        problem(path + ".injection_files", "expected a list of files");
        continue;
      }
      for (std::size_t j = 0; j < files.size(); ++j) {
        const auto file_path = path + ".injection_files[" + std::to_string(j) + "]";
        if (entry_use(files[j], file_path)) {
          continue;
        }
        if (files[j].is_string()) {  // the language's short form: a file of the image, by path
          if (!files[j].get<std::string>().starts_with("/")) {
            problem(file_path, "expected an absolute path");
          }
          continue;
        }
        const auto* target = string_field(files[j], "path", file_path, true);
        if (target && !target->get<std::string>().starts_with("/")) {
          problem(file_path + ".path", "expected an absolute path");
        }
        if (const auto* content = string_field(files[j], "content", file_path, false)) {
          check_references(content->get<std::string>(), file_path + ".content");
        }
        if (files[j].is_object() && files[j].contains("permission")
            && !file_permission(files[j].at("permission"))) {
          problem(file_path + ".permission",
                  "expected an octal mode such as 0o600 or 0o700 (at most 0o777)");
        }
      }
    }
  }

  void check_services()
  {
    const auto* services = list_field(m_session, "services");
    if (services == nullptr) {
      return;
    }
    const bool attestation_off =
        m_session.contains("security") && m_session.at("security").is_object()
        && m_session.at("security").contains("attestation")
        && m_session.at("security").at("attestation").is_object()
        && m_session.at("security").at("attestation").value("mode", Json()) == "none";
    std::set<std::string> names;
    for (std::size_t i = 0; i < services->size(); ++i) {
      const auto& service = (*services)[i];
      const auto path = "services[" + std::to_string(i) + "]";
      if (const auto* name = string_field(service, "name", path, true)) {
        const auto text = name->get<std::string>();
        if (const auto rule = manifest::check_session_segment(text); !rule.empty()) {
          problem(path + ".name", "'" + text + "' is not a valid service name; expected " + rule);
        } else if (!names.insert(text).second) {
          problem(path + ".name", "service '" + text + "' is defined twice");
        }
      }
      check_command(service, path);
      // Optional, as in SCONE: without it the program starts in the image's working directory.
      string_field(service, "pwd", path, false);
      if (const auto* image = string_field(service, "image_name", path, false);
          image && m_images.count(image->get<std::string>()) == 0) {
        problem(path + ".image_name",
                "names image '" + image->get<std::string>() + "', which images[] does not define");
      }
      if (service.contains("environment")
          && !fragment_use(service.at("environment"), path + ".environment")) {
        const auto& environment = service.at("environment");
        if (!environment.is_object()) {
          problem(path + ".environment", "expected a mapping of names to values");
        } else {
          for (const auto& [name, value] : environment.items()) {
            if (name.starts_with(R"(\@\@)")) {
              continue;  // passes the host's variable through: SCONE ignores the value
            }
            if (!value.is_string()) {
              problem(path + ".environment." + name, "expected a string (quote numbers)");
            } else {
              check_references(value.get<std::string>(), path + ".environment." + name);
            }
          }
        }
      }
      check_attestation(service, path, attestation_off);
    }
  }

  void check_command(const Json& service, const std::string& path)
  {
    // Optional: Scontain's own sessions omit it, and the program then runs with the arguments
    // it was started with.
    if (!service.contains("command")) {
      return;
    }
    const auto& command = service.at("command");
    if (command.is_string()) {
      check_references(command.get<std::string>(), path + ".command");
      return;
    }
    if (!command.is_array() || command.empty()) {
      problem(path + ".command", "expected a non-empty list of strings");
      return;
    }
    for (std::size_t i = 0; i < command.size(); ++i) {
      if (!command[i].is_string()) {
        problem(path + ".command[" + std::to_string(i) + "]", "expected a string");
      } else {
        check_references(command[i].get<std::string>(),
                         path + ".command[" + std::to_string(i) + "]");
      }
    }
  }

  void check_attestation(const Json& service, const std::string& path, bool attestation_off)
  {
    // `mrenclaves: [...]`, the language's older form of attestation.mrenclave, still counts.
    if (service.contains("mrenclaves")) {
      check_measurements(service.at("mrenclaves"), path + ".mrenclaves");
    }
    if (!service.contains("attestation") && service.contains("mrenclaves")) {
      return;
    }
    if (!service.contains("attestation")) {
      if (!attestation_off) {
        problem(path + ".attestation",
                std::string("is required unless security.attestation.mode is none: without it "
                            "any program could claim the service")
                    + (m_session.contains("attestation")
                           ? " (the top-level attestation key is not read: move it under security)"
                           : ""));
      }
      return;
    }
    const auto& attestation = service.at("attestation");
    if (fragment_use(attestation, path + ".attestation")) {
      return;
    }
    const auto variants = attestation.is_array() ? attestation : Json::array({attestation});
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const auto& variant = variants[i];
      const auto at =
          path + ".attestation" + (attestation.is_array() ? "[" + std::to_string(i) + "]" : "");
      if (attestation.is_array() && entry_use(variant, at)) {
        continue;
      }
      if (!variant.is_object() || (!variant.contains("mrenclave") && !variant.contains("signer"))) {
        problem(at, "expected mrenclave and/or signer");
        continue;
      }
      if (variant.contains("signer") && !fragment_use(variant.at("signer"), at + ".signer")) {
        check_signer(variant.at("signer"), at + ".signer");
      }
      if (variant.contains("mrenclave")) {
        check_measurements(variant.at("mrenclave"), at + ".mrenclave");
      }
    }
  }

  // One MRENCLAVE or a list of them; a secret may stand for the value, the list or an entry.
  void check_measurements(const Json& values, const std::string& path)
  {
    if (entry_use(values, path)) {
      return;
    }
    if (!values.is_array()) {
      if (!values.is_string() || !manifest::is_hex(values.get<std::string>(), 64)) {
        problem(path, "expected 64 hex digits");
      }
      return;
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (entry_use(values[i], path + "[" + std::to_string(i) + "]")) {
        continue;
      }
      if (!values[i].is_string() || !manifest::is_hex(values[i].get<std::string>(), 64)) {
        problem(path, "expected 64 hex digits");
      }
    }
  }

  void check_signer(const Json& signer, const std::string& path)
  {
    if (!signer.is_object()) {
      problem(path, "expected mrsigner and isvprodid, with isvsvn or isvsvn_min/isvsvn_max");
      return;
    }
    if (const auto* mrsigner = string_field(signer, "mrsigner", path, true);
        mrsigner && !manifest::is_hex(mrsigner->get<std::string>(), 64)) {
      problem(path + ".mrsigner", "expected 64 hex digits");
    }
    for (const char* key : {"isvprodid", "isvsvn", "isvsvn_min", "isvsvn_max"}) {
      if (signer.contains(key)
          && (!signer.at(key).is_number_unsigned()
              || signer.at(key).get<std::uint64_t>() > 65535)) {
        problem(path + "." + key, "expected an integer from 0 to 65535");
      }
    }
    if (signer.contains("isvsvn")
        && (signer.contains("isvsvn_min") || signer.contains("isvsvn_max"))) {
      problem(path + ".isvsvn", "give isvsvn or isvsvn_min/isvsvn_max, not both");
    }
  }

  void check_references(const std::string& text, const std::string& path)
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

  const Json& m_session;
  const SessionLookup& m_others;
  MissingSources m_missing;
  std::string m_name;
  std::map<std::string, SecretInfo> m_secrets;
  std::set<std::string> m_images;
  std::vector<SectionPlaceholder> m_placeholders;
  std::vector<SessionProblem> m_problems;
};

}  // namespace

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
  SessionChecker checker(session, none, MissingSources::allowed);
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
  return SessionChecker(session, others, missing).run();
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
