#pragma once

// Private to the model module: the checks of validate_session, one class whose parts live in
// validate_session.cpp (header, security, whole sections given as a config fragment, secret
// references), validate_session_secrets.cpp (secrets, their links and imports) and
// validate_session_services.cpp (images and services, their attestation).

#include "sconectl/manifest/secret.hpp"
#include "sconectl/model/session.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sconectl::model::detail {

using Json = SessionDocument;

// What a session knows about one of its secrets.
struct SecretInfo {
  std::optional<manifest::SecretKind> kind;  // empty when imported (defined elsewhere)
  bool imported = false;
  bool fragment = false;  // kind config-fragment
};

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
                           bool required);

  // Whether `value` is a whole section given as `$$SCONE::name$$`, to be checked once every secret
  // is known.
  bool fragment_use(const Json& value, const std::string& path);

  // Whether `value`, an entry of a list section, is one placeholder and nothing else: any secret
  // in one of its formats (SCONE merges a config-fragment's list into the list). Called once every
  // secret is known.
  bool entry_use(const Json& value, const std::string& path);

  // The lists of access_policy given as a config fragment (the entries are the local CAS's to
  // check: which principals it honours).
  void check_access_policy_sections();

  void check_fragment_uses();

  const Json* list_field(const Json& object, const char* key);

  void check_header();

  void check_security();

  void check_secrets();

  void check_link(const Json& secret,
                  const char* key,
                  manifest::SecretKind expected,
                  const std::string& path);

  void check_import(const Json& import, const std::string& path);

  void check_images();

  void check_services();

  void check_command(const Json& service, const std::string& path);

  void check_attestation(const Json& service, const std::string& path, bool attestation_off);

  // One MRENCLAVE or a list of them; a secret may stand for the value, the list or an entry.
  void check_measurements(const Json& values, const std::string& path);

  void check_signer(const Json& signer, const std::string& path);

  void check_references(const std::string& text, const std::string& path);

  const Json& m_session;
  const SessionLookup& m_others;
  MissingSources m_missing;
  std::string m_name;
  std::map<std::string, SecretInfo> m_secrets;
  std::set<std::string> m_images;
  std::vector<SectionPlaceholder> m_placeholders;
  std::vector<SessionProblem> m_problems;
};

}  // namespace sconectl::model::detail
