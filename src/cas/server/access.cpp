#include "access.hpp"

#include "sconectl/cas/key_hash.hpp"
#include "sconectl/manifest/names.hpp"
#include "stored_secrets.hpp"

#include <optional>
#include <variant>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

constexpr const char* k_creator = "CREATOR";
constexpr const char* k_any = "ANY";
constexpr const char* k_none = "NONE";

struct Creator {};
struct Anyone {};
struct Nobody {};
struct KeyHash {
  std::string text;
};
// `$$SCONE::name$$`: the key of the certificate held by secret `name` of the session.
struct CertificateSecret {
  std::string name;
};
using Principal = std::variant<Creator, Anyone, Nobody, KeyHash, CertificateSecret>;

std::string shown(const std::string& text)
{
  constexpr std::size_t k_shown = 60;
  return text.size() > k_shown ? text.substr(0, k_shown) + "..." : text;
}

// One access list entry, or why this CAS cannot evaluate it.
std::variant<Principal, std::string> read_entry(const Json& entry)
{
  if (!entry.is_string()) {
    return std::string(
        "only CREATOR, ANY, NONE, key hashes, PEM certificates and $$SCONE::<certificate "
        "secret>$$ are supported by this CAS (not signers or governance rules)");
  }
  const auto text = entry.get<std::string>();
  if (text == k_creator) {
    return Principal(Creator{});
  }
  if (text == k_any) {
    return Principal(Anyone{});
  }
  if (text == k_none) {
    return Principal(Nobody{});
  }
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    auto hash = key_hash_of_certificate(text);
    if (!hash) {
      return "not a readable PEM certificate: " + hash.error().message;
    }
    return Principal(KeyHash{std::move(*hash)});
  }
  if (text.starts_with("$$SCONE::") && text.ends_with("$$") && text.size() > 11) {
    auto name = text.substr(9, text.size() - 11);
    if (name.ends_with(":crt")) {
      name.resize(name.size() - 4);
    }
    if (manifest::check_secret_name(name).empty()) {
      return Principal(CertificateSecret{std::move(name)});
    }
    return "'" + shown(text)
           + "': only $$SCONE::name$$ (or :crt) naming a certificate secret is supported by this "
             "CAS";
  }
  if (text.starts_with("signer:") || text.starts_with("require-")) {
    return "'" + shown(text) + "' is not supported by this CAS (signed sessions and governance)";
  }
  if (const auto problem = key_hash_problem(text); !problem.empty()) {
    return "'" + shown(text)
           + "' is not CREATOR, ANY, NONE, a PEM certificate, $$SCONE::<certificate secret>$$ or a "
             "key hash: "
           + problem;
  }
  return Principal(KeyHash{text});
}

const char* key_of(Operation operation)
{
  switch (operation) {
    case Operation::read:
      return "read";
    case Operation::update:
      return "update";
    case Operation::create_sessions:
      return "create_sessions";
  }
  return "read";
}

// The list of `policy` (an access_policy mapping) that governs `operation`, following the
// defaults; nullptr means [CREATOR].
const Json* access_list(const Json& policy, Operation operation)
{
  if (!policy.is_object()) {
    return nullptr;
  }
  if (policy.contains(key_of(operation))) {
    return &policy.at(key_of(operation));
  }
  if (operation == Operation::create_sessions) {
    return access_list(policy, Operation::update);
  }
  return nullptr;
}

// The value of a config-fragment secret as the mapping it holds, or std::nullopt.
std::optional<Json> fragment_value(const std::optional<StoredSecret>& secret)
{
  if (!secret || secret->kind != model::k_config_fragment) {
    return std::nullopt;
  }
  auto value = Json::parse(secret->value, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

namespace {

// Why `name` cannot stand for a certificate in an access list of `session`, or "".
std::string certificate_secret_problem(const Json& session, const std::string& name)
{
  if (session.contains("secrets") && session.at("secrets").is_array()) {
    for (const auto& secret : session.at("secrets")) {
      if (!secret.is_object() || secret.value("name", std::string()) != name) {
        continue;
      }
      const auto kind = secret.value("kind", std::string());
      if (secret.contains("import") || kind == "x509" || kind == "x509-ca") {
        return "";
      }
      return "names secret '" + name + "' of kind " + kind
             + "; expected a certificate (x509, x509-ca or imported)";
    }
  }
  return "names secret '" + name + "', which this session neither defines nor imports";
}

}  // namespace

namespace {

// Where the policy checked is written: in the session itself, or as the value of the config
// fragment that `access_policy: $$SCONE::name$$` names.
enum class PolicySource { session, fragment };

std::vector<std::string> check_policy(const Json& session, const Json& policy, PolicySource source);

// `access_policy: $$SCONE::name$$`: the secret must be a config-fragment of the session, defined
// (then its mapping is checked here as if written inline) or imported (checked when resolved).
std::vector<std::string> check_fragment_policy(const Json& session, const std::string& name)
{
  const auto* secret = model::find_secret(session, name);
  const std::string at = "access_policy: $$SCONE::" + name + "$$";
  if (secret == nullptr) {
    return {at + " names secret '" + name + "', which this session neither defines nor imports"};
  }
  if (secret->contains("import")) {
    return {};
  }
  if (secret->value("kind", std::string()) != model::k_config_fragment) {
    return {at + " names secret '" + name + "' of kind " + secret->value("kind", std::string())
            + "; expected a config-fragment"};
  }
  if (!secret->contains("value") || !secret->at("value").is_object()) {
    return {at + ": the config-fragment '" + name + "' is not a mapping of operations to lists"};
  }
  auto problems = check_policy(session, secret->at("value"), PolicySource::fragment);
  for (auto& problem : problems) {
    problem = at + ": " + problem;
  }
  return problems;
}

}  // namespace

std::vector<std::string> check_access_policy(const Json& session)
{
  if (!session.contains("access_policy")) {
    return {};
  }
  const auto& policy = session.at("access_policy");
  if (const auto name = model::fragment_placeholder(policy)) {
    return check_fragment_policy(session, *name);
  }
  if (!policy.is_object()) {
    return {
        "access_policy: expected a mapping of operations to lists, or $$SCONE::name$$ naming "
        "a config-fragment secret"};
  }
  return check_policy(session, policy, PolicySource::session);
}

namespace {

std::vector<std::string> check_policy(const Json& session, const Json& policy, PolicySource source)
{
  std::vector<std::string> problems;
  for (const auto& [operation, list] : policy.items()) {
    const auto path = "access_policy." + operation;
    if (operation != "read" && operation != "update" && operation != "create_sessions"
        && operation != "list_sessions") {
      problems.push_back(path + ": unknown operation; expected read, update, create_sessions or "
                         "list_sessions");
      continue;
    }
    if (model::fragment_placeholder(list)) {
      // A config fragment in its place. In the session, session_support.cpp refuses it, and
      // `session check` notes it from there.
      if (source == PolicySource::fragment) {
        problems.push_back(path + ": not supported by this CAS: a config fragment in place of this "
                                  "list");
      }
      continue;
    }
    if (!list.is_array()) {
      problems.push_back(path + ": expected a list");
      continue;
    }
    bool exclusive = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto at = path + "[" + std::to_string(i) + "]";
      auto entry = read_entry(list[i]);
      if (const auto* problem = std::get_if<std::string>(&entry)) {
        problems.push_back(at + ": " + *problem);
        continue;
      }
      const auto& principal = std::get<Principal>(entry);
      if (const auto* secret = std::get_if<CertificateSecret>(&principal)) {
        if (auto problem = certificate_secret_problem(session, secret->name); !problem.empty()) {
          problems.push_back(at + ": " + problem);
        }
      }
      exclusive = exclusive || std::holds_alternative<Anyone>(principal)
                  || std::holds_alternative<Nobody>(principal);
    }
    if (exclusive && list.size() > 1) {
      problems.push_back(path + ": ANY and NONE must be the only entry of their list");
    }
  }
  return problems;
}

}  // namespace

SecretText stored_secret_text(Store& store, const std::string& session)
{
  return [&store, session](const std::string& name) -> std::optional<StoredSecret> {
    auto found = find_stored_secret(store, session, name);
    if (!found || !*found) {
      return std::nullopt;
    }
    return std::move(**found);
  };
}

bool is_permitted(const Json& session,
                  Operation operation,
                  const std::string& requester,
                  const SecretText& secrets)
{
  const auto creator = session.value("creator", std::string());
  // `access_policy: $$SCONE::name$$`: the fragment as its source holds it now.
  std::optional<Json> fragment;
  const Json* policy = nullptr;
  if (session.contains("access_policy")) {
    policy = &session.at("access_policy");
    if (const auto name = model::fragment_placeholder(*policy)) {
      fragment = secrets ? fragment_value(secrets(*name)) : std::nullopt;
      if (!fragment) {
        return false;
      }
      policy = &*fragment;
    } else if (!policy->is_object()) {
      policy = nullptr;
    }
  }
  const Json* list = policy == nullptr ? nullptr : access_list(*policy, operation);
  if (list == nullptr) {
    return !creator.empty() && requester == creator;
  }
  if (!list->is_array()) {
    return false;
  }
  bool permitted = false;
  for (const auto& item : *list) {
    auto entry = read_entry(item);
    const auto* principal = std::get_if<Principal>(&entry);
    if (principal == nullptr || std::holds_alternative<Nobody>(*principal)) {
      return false;
    }
    if (std::holds_alternative<Anyone>(*principal)) {
      permitted = true;
    } else if (std::holds_alternative<Creator>(*principal)) {
      permitted = permitted || (!creator.empty() && requester == creator);
    } else if (const auto* key = std::get_if<KeyHash>(principal)) {
      permitted = permitted || requester == key->text;
    } else if (const auto* secret = std::get_if<CertificateSecret>(principal);
               secret != nullptr && secrets && !permitted) {
      const auto certificate = secrets(secret->name);
      const auto hash = certificate ? key_hash_of_certificate(certificate->value)
                                    : Result<std::string>(std::string());
      permitted = hash && !hash->empty() && *hash == requester;
    }
  }
  return permitted;
}

}  // namespace sconectl::cas::server
