#include "sconectl/manifest/service_json.hpp"

#include <nlohmann/json.hpp>

namespace sconectl::manifest {

namespace {

using nlohmann::json;

// Thrown inside this file only, turned into a Result at the boundary.
struct MalformedField {
  std::string path;
};

const json& field(const json& object, const char* key, const std::string& path)
{
  if (!object.is_object() || !object.contains(key)) {
    throw MalformedField{path + "." + key};
  }
  return object.at(key);
}

std::string text(const json& value, const std::string& path)
{
  if (!value.is_string()) {
    throw MalformedField{path};
  }
  return value.get<std::string>();
}

std::optional<std::string> optional_text(const json& object,
                                         const char* key,
                                         const std::string& path)
{
  if (!object.contains(key)) {
    return std::nullopt;
  }
  return text(object.at(key), path + "." + key);
}

std::optional<bool> optional_bool(const json& object, const char* key, const std::string& path)
{
  if (!object.contains(key)) {
    return std::nullopt;
  }
  if (!object.at(key).is_boolean()) {
    throw MalformedField{path + "." + key};
  }
  return object.at(key).get<bool>();
}

std::vector<std::string> texts(const json& object, const char* key, const std::string& path)
{
  std::vector<std::string> values;
  if (!object.contains(key)) {
    return values;
  }
  const auto& list = object.at(key);
  if (!list.is_array()) {
    throw MalformedField{path + "." + key};
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    values.push_back(text(list[i], path + "." + key + "[" + std::to_string(i) + "]"));
  }
  return values;
}

const json& array_field(const json& object, const char* key, const std::string& path)
{
  static const json empty = json::array();
  if (!object.contains(key)) {
    return empty;
  }
  if (!object.at(key).is_array()) {
    throw MalformedField{path + "." + key};
  }
  return object.at(key);
}

template <class T, class Parse>
T enum_value(const json& value, const std::string& path, Parse parse)
{
  const auto parsed = parse(text(value, path));
  if (!parsed) {
    throw MalformedField{path};
  }
  return *parsed;
}

// `withheld` collects the names whose value the source left out ("has_value": true, no value).
std::vector<EnvironmentVariable> variables(const json& list,
                                           const std::string& path,
                                           std::vector<std::string>& withheld)
{
  std::vector<EnvironmentVariable> result;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto at = path + "[" + std::to_string(i) + "]";
    EnvironmentVariable variable{.name = text(field(list[i], "name", at), at + ".name"),
                                 .value = optional_text(list[i], "value", at),
                                 .at = {}};
    if (!variable.value && list[i].value("has_value", false)) {
      withheld.push_back(variable.name);
    }
    result.push_back(std::move(variable));
  }
  return result;
}

SecretDefinition secret(const json& object, const std::string& path)
{
  SecretDefinition definition;
  definition.name = text(field(object, "name", path), path + ".name");
  definition.kind = enum_value<SecretKind>(
      field(object, "kind", path), path + ".kind", [](auto t) { return secret_kind_from(t); });
  if (object.contains("size")) {
    if (!object.at("size").is_number_unsigned()) {
      throw MalformedField{path + ".size"};
    }
    definition.size = object.at("size").get<std::uint64_t>();
  }
  definition.value = optional_text(object, "value", path);
  if (object.contains("key_type")) {
    definition.key_type = enum_value<KeyType>(
        object.at("key_type"), path + ".key_type", [](auto t) { return key_type_from(t); });
  }
  definition.migrate = optional_bool(object, "migrate", path);
  definition.export_public = optional_bool(object, "export_public", path);
  definition.private_key = optional_text(object, "private_key", path);
  definition.issuer = optional_text(object, "issuer", path);
  definition.common_name = optional_text(object, "common_name", path);
  definition.dns = texts(object, "dns", path);
  definition.san = texts(object, "san", path);
  if (object.contains("endpoint")) {
    definition.endpoint = enum_value<CertificateEndpoint>(
        object.at("endpoint"), path + ".endpoint", [](auto t) { return endpoint_from(t); });
  }
  definition.valid_for = optional_text(object, "valid_for", path);
  definition.tenant_id = optional_text(object, "tenant_id", path);
  definition.client_id = optional_text(object, "client_id", path);
  definition.application_secret = optional_text(object, "application_secret", path);
  definition.certificate_thumbprint = optional_text(object, "certificate_thumbprint", path);
  const auto& exports = array_field(object, "export", path);
  for (std::size_t i = 0; i < exports.size(); ++i) {
    const auto at = path + ".export[" + std::to_string(i) + "]";
    definition.exports.push_back({.session = optional_text(exports[i], "session", at),
                                  .session_hash = optional_text(exports[i], "session_hash", at),
                                  .namespace_name = optional_text(exports[i], "namespace", at),
                                  .at = {}});
  }
  return definition;
}

Volume volume(const json& object, const std::string& path)
{
  Volume result;
  result.name = text(field(object, "name", path), path + ".name");
  result.path = optional_text(object, "path", path);
  if (object.contains("import")) {
    const auto& imported = object.at("import");
    result.import = VolumeImport{
        .session = text(field(imported, "session", path + ".import"), path + ".import.session"),
        .volume = text(field(imported, "volume", path + ".import"), path + ".import.volume")};
  }
  const auto& exports = array_field(object, "export", path);
  for (std::size_t i = 0; i < exports.size(); ++i) {
    const auto at = path + ".export[" + std::to_string(i) + "]";
    result.exports.push_back({.session = text(field(exports[i], "session", at), at + ".session"),
                              .session_hash = optional_text(exports[i], "session_hash", at),
                              .update_policy = optional_text(exports[i], "update_policy", at),
                              .volume_alias = optional_text(exports[i], "volume_alias", at),
                              .at = {}});
  }
  return result;
}

ServiceMetadata metadata(const json& object)
{
  ServiceMetadata result;
  result.build_name = text(field(object, "name", "service"), "service.name");
  result.command = texts(object, "command", "service");
  result.pwd = optional_text(object, "pwd", "service");
  const auto& environment = field(object, "environment", "service");
  result.local_environment = variables(array_field(environment, "local", "service.environment"),
                                       "service.environment.local",
                                       result.withheld_environment_values);
  result.global_environment = variables(array_field(environment, "global", "service.environment"),
                                        "service.environment.global",
                                        result.withheld_environment_values);
  const auto& secrets = array_field(object, "secrets", "service");
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    auto definition = secret(secrets[i], "service.secrets[" + std::to_string(i) + "]");
    const bool value_withheld = secrets[i].value("has_value", false) && !definition.value;
    const bool aad_withheld = definition.kind == SecretKind::aad_token
                              && !definition.application_secret
                              && !definition.certificate_thumbprint;
    if (value_withheld || aad_withheld) {
      result.withheld_secret_values.push_back(definition.name);
    }
    result.secrets.push_back(std::move(definition));
  }
  result.imported_secrets = texts(object, "imported_secrets", "service");
  const auto& files = array_field(object, "injection_files", "service");
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto at = "service.injection_files[" + std::to_string(i) + "]";
    result.injection_files.push_back({.path = text(field(files[i], "path", at), at + ".path"),
                                      .content = optional_text(files[i], "content", at)});
  }
  const auto& volumes = array_field(object, "volumes", "service");
  for (std::size_t i = 0; i < volumes.size(); ++i) {
    result.volumes.push_back(volume(volumes[i], "service.volumes[" + std::to_string(i) + "]"));
  }
  return result;
}

}  // namespace

Result<ServiceMetadata> service_metadata_from_json(const nlohmann::json& json)
{
  try {
    return metadata(json);
  } catch (const MalformedField& malformed) {
    return fail(ErrorKind::manifest, "malformed service metadata: field '" + malformed.path + "'");
  }
}

}  // namespace sconectl::manifest
