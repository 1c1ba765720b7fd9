#include "sconectl/manifest/service_json.hpp"

#include "sconectl/manifest/command_line.hpp"

#include <nlohmann/json.hpp>

namespace sconectl::manifest {

namespace {

template <class T>
void set_if(nlohmann::json& object, const char* key, const std::optional<T>& value)
{
  if (value) {
    object[key] = *value;
  }
}

void set_if(nlohmann::json& object, const char* key, const std::vector<std::string>& values)
{
  if (!values.empty()) {
    object[key] = values;
  }
}

nlohmann::json variables_json(const std::vector<EnvironmentVariable>& variables,
                              Disclosure disclosure)
{
  auto list = nlohmann::json::array();
  for (const auto& variable : variables) {
    nlohmann::json entry{{"name", variable.name}};
    if (variable.value) {
      if (disclosure == Disclosure::everything) {
        entry["value"] = *variable.value;
      } else {
        entry["has_value"] = true;
      }
    }
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace

nlohmann::json to_json(const SecretDefinition& secret, Disclosure disclosure)
{
  nlohmann::json json{{"name", secret.name}, {"kind", to_string(secret.kind)}};
  set_if(json, "size", secret.size);
  if (secret.value) {
    json["has_value"] = true;
    if (disclosure == Disclosure::everything) {
      json["value"] = *secret.value;
    }
  }
  if (secret.key_type) {
    json["key_type"] = to_string(*secret.key_type);
  }
  set_if(json, "migrate", secret.migrate);
  set_if(json, "export_public", secret.export_public);
  set_if(json, "private_key", secret.private_key);
  set_if(json, "issuer", secret.issuer);
  set_if(json, "common_name", secret.common_name);
  set_if(json, "dns", secret.dns);
  set_if(json, "san", secret.san);
  if (secret.endpoint) {
    json["endpoint"] = to_string(*secret.endpoint);
  }
  set_if(json, "valid_for", secret.valid_for);
  // An AAD token's account (tenant, client, application secret or certificate thumbprint) is
  // the policy's business alone; without it the reader counts the secret as withheld.
  if (disclosure == Disclosure::everything) {
    set_if(json, "tenant_id", secret.tenant_id);
    set_if(json, "client_id", secret.client_id);
    set_if(json, "application_secret", secret.application_secret);
    set_if(json, "certificate_thumbprint", secret.certificate_thumbprint);
  }
  if (!secret.exports.empty()) {
    auto exports = nlohmann::json::array();
    for (const auto& entry : secret.exports) {
      nlohmann::json item = nlohmann::json::object();
      set_if(item, "session", entry.session);
      set_if(item, "session_hash", entry.session_hash);
      set_if(item, "namespace", entry.namespace_name);
      exports.push_back(std::move(item));
    }
    json["export"] = std::move(exports);
  }
  return json;
}

nlohmann::json service_metadata(const ServiceManifest& service, Disclosure disclosure)
{
  const auto& build = service.build;
  nlohmann::json json{{"name", build.name},
                      {"command", launch_command(service)},
                      {"environment",
                       {{"local", variables_json(service.local_environment, disclosure)},
                        {"global", variables_json(service.global_environment, disclosure)}}}};
  set_if(json, "pwd", build.pwd);
  auto secrets = nlohmann::json::array();
  for (const auto& secret : service.secrets) {
    secrets.push_back(to_json(secret, disclosure));
  }
  json["secrets"] = std::move(secrets);
  auto imports = nlohmann::json::array();
  for (const auto& imported : service.imported_secrets) {
    imports.push_back(imported.name);
  }
  json["imported_secrets"] = std::move(imports);
  auto files = nlohmann::json::array();
  for (const auto& file : service.injection_files) {
    nlohmann::json entry{{"path", file.path}};
    if (disclosure == Disclosure::everything) {
      entry["content"] = file.content;
    }
    files.push_back(std::move(entry));
  }
  json["injection_files"] = std::move(files);
  auto volumes = nlohmann::json::array();
  for (const auto& volume : build.volumes) {
    nlohmann::json entry{{"name", volume.name}};
    set_if(entry, "path", volume.path);
    if (volume.import) {
      entry["import"] = {{"session", volume.import->session}, {"volume", volume.import->volume}};
    }
    if (!volume.exports.empty()) {
      auto exports = nlohmann::json::array();
      for (const auto& exported : volume.exports) {
        nlohmann::json item{{"session", exported.session}};
        set_if(item, "session_hash", exported.session_hash);
        set_if(item, "update_policy", exported.update_policy);
        set_if(item, "volume_alias", exported.volume_alias);
        exports.push_back(std::move(item));
      }
      entry["export"] = std::move(exports);
    }
    volumes.push_back(std::move(entry));
  }
  json["volumes"] = std::move(volumes);
  return json;
}

}  // namespace sconectl::manifest
