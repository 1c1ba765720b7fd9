#include "parse_fields.hpp"

namespace sconectl::manifest::detail {

namespace {

// Generated values larger than this make no sense as secrets and would bloat CAS.
constexpr std::uint64_t k_max_secret_size = 1024 * 1024;

std::vector<SecretExport> parse_exports(MapReader& secret)
{
  std::vector<SecretExport> exports;
  for (const auto& [item, item_path] : secret.list("export")) {
    auto reader = as_map(item, item_path, secret.context());
    if (!reader) {
      continue;
    }
    SecretExport entry{.session = reader->string("session"),
                       .session_hash = reader->string("session_hash"),
                       .namespace_name = reader->string("namespace"),
                       .at = reader->positions()};
    reader->report_unknown_fields();
    exports.push_back(std::move(entry));
  }
  return exports;
}

// `dns` is documented both as one name and as a list of names.
std::vector<std::string> parse_dns(MapReader& secret)
{
  const auto node = secret.raw("dns");
  if (!node || node->is_null()) {
    return {};
  }
  if (node->is_scalar()) {
    if (auto name = as_string(*node, secret.path_of("dns"), secret.context())) {
      return {*name};
    }
    return {};
  }
  return secret.string_list("dns");
}

std::optional<SecretDefinition> parse_secret(const yaml::Node& node,
                                             const std::string& path,
                                             ParseContext& context)
{
  // An item that is not a mapping may be a secret value written in the wrong place.
  auto reader = as_map(node, path, context, ParseContext::Sensitivity::secret);
  if (!reader) {
    return std::nullopt;
  }
  SecretDefinition secret;
  const auto name = reader->string("name", Need::required);
  // Kinds of the session language that a manifest cannot express (structured values, signed
  // tokens): named as such, not as unknown, and pointed at the way that does support them.
  if (const auto written = reader->raw("kind");
      written && written->is_scalar()
      && (written->scalar() == "config-fragment" || written->scalar() == "jwt")) {
    context.error(reader->position_of_field("kind"),
                  reader->path_of("kind"),
                  "secret kind '" + written->scalar()
                      + "' is part of the CAS session language but not of manifests; write it "
                        "in a session file and upload it with `sconectl session create`");
    reader->report_unknown_fields();
    return std::nullopt;
  }
  const auto kind = enum_field<SecretKind>(
      *reader, "kind", secret_kind_from, secret_kind_names(), "secret kind", Need::required);
  secret.size = reader->unsigned_integer("size", 1, k_max_secret_size);
  secret.value = reader->secret_string("value");
  secret.key_type =
      enum_field<KeyType>(*reader, "key_type", key_type_from, key_type_names(), "key type");
  secret.migrate = reader->boolean("migrate");
  secret.export_public = reader->boolean("export_public");
  secret.private_key = reader->string("private_key");
  secret.issuer = reader->string("issuer");
  secret.common_name = reader->string("common_name");
  secret.dns = parse_dns(*reader);
  secret.san = reader->string_list("san");
  secret.endpoint = enum_field<CertificateEndpoint>(
      *reader, "endpoint", endpoint_from, endpoint_names(), "certificate endpoint");
  secret.valid_for = reader->string("valid_for");
  secret.tenant_id = reader->string("tenant_id");
  secret.client_id = reader->string("client_id");
  secret.application_secret = reader->secret_string("application_secret");
  secret.certificate_thumbprint = reader->string("certificate_thumbprint");
  secret.exports = parse_exports(*reader);
  secret.at = reader->positions();
  reader->report_unknown_fields();
  if (name && !kind) {
    context.note_secret_without_kind(*name);
  }
  if (!name || !kind) {
    return std::nullopt;
  }
  secret.name = *name;
  secret.kind = *kind;
  return secret;
}

}  // namespace

std::string join_names(const std::vector<std::string_view>& names)
{
  std::string text;
  for (const auto name : names) {
    if (!text.empty()) {
      text += ", ";
    }
    text += name;
  }
  return text;
}

ApiVersion api_version_field(MapReader& reader)
{
  const auto text = reader.string("apiVersion", Need::required);
  if (!text) {
    return k_oldest_api_version;
  }
  const auto version = parse_api_version(*text);
  if (!version) {
    reader.context().error(
        reader.position_of_field("apiVersion"),
        "apiVersion",
        "expected scone/<version> such as scone/5.8, got " + quoted_excerpt(*text));
    return k_oldest_api_version;
  }
  if (*version < k_oldest_api_version) {
    reader.context().error(reader.position_of_field("apiVersion"),
                           "apiVersion",
                           "version " + *text + " is too old; sconectl reads scone/5.8 and later");
  }
  return *version;
}

std::vector<SecretDefinition> parse_secret_definitions(
    const std::vector<std::pair<yaml::Node, std::string>>& items, ParseContext& context)
{
  std::vector<SecretDefinition> secrets;
  for (const auto& [item, item_path] : items) {
    if (auto secret = parse_secret(item, item_path, context)) {
      secrets.push_back(std::move(*secret));
    }
  }
  return secrets;
}

}  // namespace sconectl::manifest::detail
