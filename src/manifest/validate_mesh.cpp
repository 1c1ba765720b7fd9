#include "parse_document.hpp"
#include "parse_fields.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/fs.hpp"

#include <regex>
#include <set>

namespace sconectl::manifest::detail {

namespace {

// Roles a CAS instance can play for a mesh; every role defaults to the instance named "cas".
const std::vector<std::string_view> k_cas_roles{
    "cas", "image", "security", "access", "attestation"};

// CAS key hashes: Base58Check of a version byte and 32 bytes (50 characters).
bool is_key_hash(const std::string& text)
{
  const auto payload = base58check_decode(text);
  return payload && payload->size() == 33;
}

void check_cas(const MeshManifest& manifest, ParseContext& context)
{
  std::map<std::string, std::string> role_owner;
  for (const auto& cas : manifest.cas) {
    const auto& path = cas.at.path;
    const auto url_path = join_path(path, "cas_url");
    if (const auto problem = check_host_port(cas.cas_url);
        !problem.empty() && !context.has_variable_problem(url_path)) {
      context.error(cas.at.of("cas_url"),
                    url_path,
                    "'" + cas.cas_url + "' is not a valid CAS address; expected " + problem);
    }
    const std::pair<const char*, const std::optional<std::string>&> keys[] = {
        {"cas_key", cas.cas_key}, {"cas_software_key", cas.cas_software_key}};
    for (const auto& [field, value] : keys) {
      const auto field_path = join_path(path, field);
      if (value && !is_key_hash(*value) && !context.has_variable_problem(field_path)) {
        context.error(cas.at.of(field),
                      field_path,
                      "expected a 50-character Base58Check key hash (as printed by "
                      "'sconectl cas serve' or 'kubectl provision cas --print-public-keys')");
      }
    }
    const auto encryption_path = join_path(path, "cas_encryption_key");
    if (cas.cas_encryption_key && !is_hex(*cas.cas_encryption_key, 64)
        && !context.has_variable_problem(encryption_path)) {
      context.error(cas.at.of("cas_encryption_key"), encryption_path, "expected 64 hex digits");
    }
    std::vector<std::string> roles{cas.name};
    roles.insert(roles.end(), cas.aliases.begin(), cas.aliases.end());
    for (std::size_t i = 0; i < roles.size(); ++i) {
      const auto& role = roles[i];
      const auto role_path =
          i == 0 ? join_path(path, "name") : index_path(join_path(path, "alias"), i - 1);
      const auto at = cas.at.of(i == 0 ? "name" : "alias");
      if (i > 0 && std::find(k_cas_roles.begin(), k_cas_roles.end(), role) == k_cas_roles.end()) {
        context.warning(at,
                        role_path,
                        "unknown CAS role '" + role + "'; known roles: " + join_names(k_cas_roles));
      }
      const auto [owner, inserted] = role_owner.emplace(role, cas.name);
      if (!inserted) {
        context.error(at,
                      role_path,
                      "CAS role '" + role + "' is already provided by CAS '" + owner->second + "'");
      }
    }
  }
  if (!manifest.cas.empty() && role_owner.count("cas") == 0) {
    context.error(manifest.cas.front().at.self,
                  "cas",
                  "no CAS instance is named 'cas' or has the alias 'cas'");
  }
}

void check_policy(const MeshPolicy& policy, ParseContext& context)
{
  if (const auto problem = check_session_name(policy.namespace_name);
      !policy.namespace_name.empty() && !problem.empty()
      && !context.has_variable_problem("policy.namespace")) {
    context.error(
        policy.at.of("namespace"),
        "policy.namespace",
        "'" + policy.namespace_name + "' is not a valid CAS namespace; expected " + problem);
  }
  for (const auto& value : policy.tolerate) {
    if (std::find(tolerations().begin(), tolerations().end(), value) == tolerations().end()) {
      std::string message = "unknown toleration '" + value + "'";
      if (const auto suggestion = closest_match(value, tolerations()); !suggestion.empty()) {
        message += " (did you mean '" + suggestion + "'?)";
      }
      context.error(policy.at.of("tolerate"),
                    "policy.tolerate",
                    message + "; expected one of: " + join_names(tolerations()));
    }
  }
  static const std::regex advisory(R"([A-Z]+-SA-[0-9]+)");
  for (const auto& value : policy.ignore_advisories) {
    if (value == "*" && policy.ignore_advisories.size() > 1) {
      context.error(policy.at.of("ignore_advisories"),
                    "policy.ignore_advisories",
                    "'*' ignores every advisory and cannot be combined with advisory IDs");
    } else if (value != "*" && !std::regex_match(value, advisory)) {
      context.error(
          policy.at.of("ignore_advisories"),
          "policy.ignore_advisories",
          "expected \"*\" or advisory IDs like INTEL-SA-00615, got " + quoted_excerpt(value));
    }
  }
  if (policy.maa && policy.maa->rfind("https://", 0) != 0) {
    context.error(policy.at.of("maa"), "policy.maa", "expected an https:// URL of an Azure MAA");
  }
  const std::pair<const char*, const std::optional<std::string>&> names[] = {
      {"image_policy_namespace", policy.image_policy_namespace},
      {"access_policy_name", policy.access_policy_name},
      {"attestation_policy_name", policy.attestation_policy_name},
      {"security_policy_name", policy.security_policy_name}};
  for (const auto& [field, value] : names) {
    if (value && !check_session_name(*value).empty()) {
      context.error(
          policy.at.of(field),
          join_path("policy", field),
          "'" + *value + "' is not a valid session name; expected " + check_session_name(*value));
    }
  }
}

void check_services(const MeshManifest& manifest, ParseContext& context)
{
  std::map<std::string, int> names;
  std::map<std::string, std::pair<std::string, int>> secret_owner;
  for (const auto& service : manifest.services) {
    const auto& path = service.at.path;
    const auto name_field = service.name_derived_from_image ? "image" : "name";
    if (const auto problem = check_session_segment(service.name); !problem.empty()) {
      context.error(service.at.of(name_field),
                    join_path(path, name_field),
                    "'" + service.name + "' is not a valid service name; expected " + problem);
    }
    if (const auto [first, inserted] = names.emplace(service.name, service.at.of(name_field).line);
        !inserted) {
      context.error(service.at.of(name_field),
                    join_path(path, name_field),
                    "duplicate service '" + service.name + "' (first defined at line "
                        + std::to_string(first->second) + ")");
    }
    const auto image_path = join_path(path, "image");
    if (const auto problem = check_image_reference(service.image);
        !problem.empty() && !context.has_variable_problem(image_path)) {
      context.error(service.at.of("image"),
                    image_path,
                    "'" + service.image + "' is not a valid image reference; expected " + problem);
    }
    const std::pair<const char*, const std::optional<std::string>&> files[] = {
        {"image_policy", service.image_policy},
        {"env", service.env_file},
        {"helm_chart", service.helm_chart}};
    for (const auto& [field, value] : files) {
      if (value && !fs::stays_inside(manifest.base_dir, *value)) {
        context.error(service.at.of(field),
                      join_path(path, field),
                      "'" + *value + "' must be a relative path inside the manifest's directory");
      }
    }
    for (const auto& secret : service.image_secret_definitions) {
      const auto [owner, inserted] = secret_owner.emplace(
          secret.name, std::make_pair(service.name, secret.at.of("name").line));
      if (!inserted && owner->second.first != service.name) {
        context.error(service.at.of("image_secrets"),
                      join_path(path, "image_secrets"),
                      "secret '" + secret.name + "' is also defined by service '"
                          + owner->second.first + "'; secret names must be unique in a mesh");
      }
    }
  }
}

void check_environment(const MeshManifest& manifest, ParseContext& context)
{
  // Service names first: on a tie, "did you mean" prefers a service over global/helm.
  std::vector<std::string> targets;
  for (const auto& service : manifest.services) {
    targets.push_back(service.name);
  }
  targets.insert(targets.end(), {"global", "helm"});
  std::map<std::string, int> blocks;
  for (const auto& block : manifest.environment) {
    const auto service_path = join_path(block.at.path, "service");
    if (std::find(targets.begin(), targets.end(), block.service) == targets.end()) {
      std::string message = "'" + block.service + "' is neither global, helm nor a service of "
                                                  "this mesh";
      if (const auto suggestion = closest_match(block.service, targets); !suggestion.empty()) {
        message += " (did you mean '" + suggestion + "'?)";
      }
      context.error(block.at.of("service"), service_path, std::move(message));
    }
    if (const auto [first, inserted] = blocks.emplace(block.service, block.at.of("service").line);
        !inserted) {
      context.error(block.at.of("service"),
                    service_path,
                    "a second env block for '" + block.service + "' (first at line "
                        + std::to_string(first->second) + "); merge them");
    }
    std::map<std::string, int> names;
    for (const auto& variable : block.variables) {
      const auto path = join_path(variable.at.path, "name");
      if (const auto problem = check_variable_name(variable.name); !problem.empty()) {
        context.error(variable.at.of("name"),
                      path,
                      "'" + variable.name + "' is not a valid variable name; expected " + problem);
      }
      if (const auto [first, inserted] = names.emplace(variable.name, variable.at.of("name").line);
          !inserted) {
        context.error(variable.at.of("name"),
                      path,
                      "variable '" + variable.name + "' is set twice for '" + block.service
                          + "' (first at line " + std::to_string(first->second) + ")");
      }
    }
  }
}

}  // namespace

void validate_mesh(const MeshManifest& manifest, ParseContext& context)
{
  check_cas(manifest, context);
  check_policy(manifest.policy, context);
  check_services(manifest, context);
  check_environment(manifest, context);
  if (manifest.repo && !manifest.repo->destination.empty()
      && !check_image_reference(manifest.repo->destination).empty()) {
    context.error(manifest.repo->at.of("destination"),
                  "repo.destination",
                  "'" + manifest.repo->destination + "' is not a valid repository; expected "
                      + check_image_reference(manifest.repo->destination));
  }
}

}  // namespace sconectl::manifest::detail
