// SessionChecker (session_checker.hpp): secrets: their kinds, links to other sessions and imports.

#include "sconectl/manifest/names.hpp"
#include "sconectl/manifest/secret_reference.hpp"
#include "sconectl/model/export_match.hpp"
#include "session_checker.hpp"

namespace sconectl::model::detail {

void SessionChecker::check_secrets()
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
               && (kind->get<std::string>() == "jwt" || kind->get<std::string>() == "session-ca")) {
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

void SessionChecker::check_link(const Json& secret,
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

void SessionChecker::check_import(const Json& import, const std::string& path)
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

}  // namespace sconectl::model::detail
