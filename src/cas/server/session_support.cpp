#include "session_support.hpp"

#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/manifest/names.hpp"
#include "sconectl/model/export_match.hpp"
#include "sconectl/util/strings.hpp"

#include <algorithm>
#include <set>
#include <string_view>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

// A key of the session language that this CAS refuses, and why.
struct Refused {
  std::string_view key;
  std::string_view why;
};

constexpr std::string_view k_no_file_shield =
    "the SCONE file-system shield is not part of the simulation runtime";
constexpr std::string_view k_no_otp = "one-time passwords at start-up";
constexpr std::string_view k_other_cas = "imports from another CAS";
constexpr std::string_view k_azure = "Microsoft Azure services";
constexpr std::string_view k_fragment_here =
    "a config fragment in place of this section (this CAS honours one in place of access_policy "
    "only)";
constexpr std::string_view k_secret_entry_here =
    "a secret in place of an entry of this list (this CAS honours one in access_policy lists "
    "only)";
constexpr const char* k_unknown_key = ": not a key of session language 0.3 (check its spelling)";

class SupportChecker {
 public:
  std::vector<std::string> run(const Json& session)
  {
    if (!session.is_object()) {
      return {};  // the session check reports it
    }
    const auto placeholders = model::section_placeholders(session);
    for (const auto& placeholder : placeholders) {
      m_placeholder_paths.insert(placeholder.path);
    }
    keys(session,
         "",
         {"version",
          "name",
          "predecessor",
          "creator",
          "namespace_hash",
          "salt",
          "services",
          "images",
          "secrets",
          "access_policy",
          "security"},
         {{"secret_config", "secret backends other than this CAS"}, {"volumes", k_no_file_shield}});
    for_each(session, "services", [this](const Json& service, const std::string& path) {
      check_service(service, path);
    });
    for_each(session, "images", [this](const Json& image, const std::string& path) {
      check_image(image, path);
    });
    for_each(session, "secrets", [this](const Json& secret, const std::string& path) {
      check_secret(secret, path);
    });
    if (session.contains("security")) {
      check_security(session.at("security"));
    }
    // Where a section or a list entry is a secret: the session check has checked that it names
    // one; only `access_policy: $$SCONE::name$$` is resolved here (access.cpp).
    for (const auto& placeholder : placeholders) {
      if (placeholder.path != "access_policy") {
        refuse(placeholder.path, placeholder.whole_section ? k_fragment_here : k_secret_entry_here);
      }
    }
    return std::move(m_found);
  }

 private:
  void refuse(const std::string& path, std::string_view why)
  {
    m_found.push_back(path + ": not supported by this CAS: " + std::string(why));
  }

  // Reports each key of `object` that is neither honoured nor a known key this CAS refuses.
  void keys(const Json& object,
            const std::string& path,
            std::initializer_list<std::string_view> honoured,
            std::initializer_list<Refused> refused = {})
  {
    if (!object.is_object()) {
      return;
    }
    for (const auto& [key, value] : object.items()) {
      const auto at = path.empty() ? key : path + "." + key;
      if (std::find(honoured.begin(), honoured.end(), key) != honoured.end()) {
        continue;
      }
      const auto known =
          std::find_if(refused.begin(), refused.end(), [&field = key](const Refused& entry) {
            return entry.key == field;
          });
      if (known != refused.end()) {
        refuse(at, known->why);
      } else if (path.empty() && key == "attestation") {
        // Misplaced rather than unknown: the session check names it with where SCONE reads it.
        continue;
      } else {
        m_found.push_back(at + k_unknown_key);
      }
    }
  }

  template <class Check>
  void for_each(const Json& object, const char* key, Check&& check)
  {
    if (!object.is_object() || !object.contains(key) || !object.at(key).is_array()) {
      return;
    }
    const auto& list = object.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      check(list[i], std::string(key) + "[" + std::to_string(i) + "]");
    }
  }

  void check_service(const Json& service, const std::string& path)
  {
    // Sessions read back from a SCONE CAS carry `persistency: None`, which asks for nothing.
    const bool no_persistency =
        service.is_object() && service.contains("persistency")
        && (service.at("persistency").is_null() || service.at("persistency") == "None");
    const std::initializer_list<Refused> refused{
        {"fspf_path", k_no_file_shield},
        {"fspf_key", k_no_file_shield},
        {"fspf_tag", k_no_file_shield},
        {"fspf_update_policy", k_no_file_shield},
        {"platforms", "platform restrictions: a simulated enclave runs on no attested platform"},
        {"one_time_password_shared_secret", k_no_otp},
        {"persistency", "persistency other than None"}};
    if (no_persistency) {
      keys(service,
           path,
           {"name",
            "command",
            "environment",
            "pwd",
            "image_name",
            "attestation",
            "mrenclaves",
            "persistency"},
           refused);
    } else {
      keys(service,
           path,
           {"name", "command", "environment", "pwd", "image_name", "attestation", "mrenclaves"},
           refused);
    }
    if (!service.is_object() || !service.contains("attestation")) {
      return;
    }
    const auto& attestation = service.at("attestation");
    if (is_placeholder(path + ".attestation")) {
      return;
    }
    const auto variants = attestation.is_array() ? attestation : Json::array({attestation});
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const auto at =
          path + ".attestation" + (attestation.is_array() ? "[" + std::to_string(i) + "]" : "");
      keys(variants[i], at, {"mrenclave", "signer"});
      if (variants[i].is_object() && variants[i].contains("signer")) {
        keys(variants[i].at("signer"),
             at + ".signer",
             {"mrsigner", "isvprodid", "isvsvn", "isvsvn_min", "isvsvn_max"});
      }
    }
  }

  void check_image(const Json& image, const std::string& path)
  {
    keys(image,
         path,
         {"name", "injection_files"},
         {{"volumes", k_no_file_shield},
          {"provide_secrets", "limiting which secrets file templates see (language 0.3.11)"}});
    for_each(image, "injection_files", [this, &path](const Json& file, const std::string& entry) {
      const auto at = path + "." + entry;
      if (is_placeholder(at)) {
        return;
      }
      if (file.is_string()) {
        refuse(at,
               "a file given by its path only is read from the protected file system and filled "
               "in there, and "
                   + std::string(k_no_file_shield) + "; give path and content");
        return;
      }
      keys(file, at, {"path", "content", "permission"});
    });
  }

  void check_secret(const Json& secret, const std::string& path)
  {
    keys(secret,
         path,
         {"name",
          "kind",
          "size",
          "value",
          "export",
          "export_public",
          "import",
          "migrate",
          "key_type",
          "private_key",
          "issuer",
          "common_name",
          "endpoint",
          "dns",
          "san",
          "valid_for"},
         {{"import_akv", k_azure},
          {"tenant_id", k_azure},
          {"client_id", k_azure},
          {"application_secret", k_azure},
          {"certificate_thumbprint", k_azure}});
    if (!secret.is_object()) {
      return;
    }
    static const std::initializer_list<Refused> refused_kinds{
        {"aad-token", "tokens from Azure Active Directory"},
        {"pgp-key", "PGP keys (session language 0.3.10)"},
        {"jwt", "JSON web tokens (session language 0.3.12)"},
        {"session-ca", "session CAs (session language 0.2)"}};
    if (secret.contains("kind") && secret.at("kind").is_string()) {
      const auto kind = secret.at("kind").get<std::string>();
      for (const auto& [name, why] : refused_kinds) {
        if (kind == name) {
          refuse(path + ".kind", "kind " + kind + ": " + std::string(why));
        }
      }
    }
    if (secret.contains("import")) {
      keys(secret.at("import"),
           path + ".import",
           {"session", "secret", "session_hash"},
           {{"cas_url", k_other_cas}, {"cas_key", k_other_cas}, {"cas_software_key", k_other_cas}});
    }
    for (const auto& [entry, at] : model::export_entries(secret)) {
      keys(*entry, path + "." + at, {"session", "session_hash", "namespace"});
    }
  }

  void check_security(const Json& security)
  {
    if (is_placeholder("security")) {
      return;
    }
    keys(security, "security", {"attestation", "service_access_token", "singleton_enclaves"});
    if (!security.is_object()) {
      return;
    }
    if (security.contains("singleton_enclaves")
        && !(security.at("singleton_enclaves").is_boolean()
             && !security.at("singleton_enclaves").get<bool>())) {
      refuse("security.singleton_enclaves", "single-instance enclaves");
    }
    if (!security.contains("attestation")) {
      return;
    }
    const auto& attestation = security.at("attestation");
    if (is_placeholder("security.attestation")) {
      return;
    }
    keys(attestation,
         "security.attestation",
         {"mode", "tolerate", "ignore_advisories"},
         {{"url", "Microsoft Azure Attestation (mode maa)"},
          {"certificates", "Microsoft Azure Attestation (mode maa)"},
          {"trusted_scone_qe_pubkeys", "SCONE quoting enclaves: a simulated enclave has no quote"},
          {"must_be_sgx_local", "local attestation"},
          {"one_time_password_shared_secret", k_no_otp}});
    if (!attestation.is_object()) {
      return;
    }
    if (attestation.contains("mode")) {
      const auto& mode = attestation.at("mode");
      if (mode == "maa") {
        refuse("security.attestation.mode", "Microsoft Azure Attestation (mode maa)");
      } else if (mode != "hardware" && mode != "none") {
        m_found.emplace_back("security.attestation.mode: expected hardware or none");
      }
    }
    if (attestation.contains("tolerate") && !is_placeholder("security.attestation.tolerate")) {
      const auto& tolerate = attestation.at("tolerate");
      const auto list = tolerate.is_array() ? tolerate : Json::array({tolerate});
      const auto& known = manifest::tolerations();
      for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& value = list[i];
        if (is_placeholder("security.attestation.tolerate[" + std::to_string(i) + "]")) {
          continue;
        }
        if (!value.is_string()
            || std::find(known.begin(), known.end(), value.get<std::string>()) == known.end()) {
          const auto names = strings::join(known, ", ");
          m_found.push_back("security.attestation.tolerate: " + value.dump()
                            + " is not a toleration; expected one of " + names);
        }
      }
    }
    if (attestation.contains("ignore_advisories")
        && !is_placeholder("security.attestation.ignore_advisories")) {
      const auto& advisories = attestation.at("ignore_advisories");
      const auto list = advisories.is_array() ? advisories : Json::array({advisories});
      for (const auto& value : list) {
        if (!value.is_string()) {
          m_found.emplace_back(
              "security.attestation.ignore_advisories: expected advisory ids such as "
              "INTEL-SA-00615, or \"*\"");
        }
      }
    }
  }

  // Whether the session check found a secret standing at `path` (refused once, in run()).
  [[nodiscard]] bool is_placeholder(const std::string& path) const
  {
    return m_placeholder_paths.contains(path);
  }

  std::vector<std::string> m_found;
  std::set<std::string> m_placeholder_paths;
};

}  // namespace

std::vector<std::string> unsupported_constructs(const model::SessionDocument& session)
{
  return SupportChecker().run(session);
}

}  // namespace sconectl::cas::server

namespace sconectl::cas {

LocalCasSupport local_cas_support(const nlohmann::ordered_json& session)
{
  LocalCasSupport support;
  for (auto& message : server::unsupported_constructs(session)) {
    (message.ends_with(server::k_unknown_key) ? support.unknown : support.unsupported)
        .push_back(std::move(message));
  }
  return support;
}

}  // namespace sconectl::cas
