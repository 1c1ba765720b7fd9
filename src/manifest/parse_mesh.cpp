#include "parse_document.hpp"
#include "parse_fields.hpp"
#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/util/fs.hpp"
#include "yaml_document.hpp"

#include <algorithm>
#include <regex>

namespace sconectl::manifest::detail {

namespace {

std::vector<std::string> split_list(const std::string& text)
{
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    auto item = text.substr(start, end - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) {
      items.push_back(item.substr(first, last - first + 1));
    }
    start = end + 1;
  }
  return items;
}

// For keys, an empty value (typically `${CAS_KEY:-}` with the variable unset) means "not given".
std::optional<std::string> non_empty(std::optional<std::string> value)
{
  return value && value->empty() ? std::nullopt : value;
}

std::vector<CasInstance> parse_cas(MapReader& top)
{
  std::vector<CasInstance> instances;
  const auto items = top.list("cas", Need::required);
  if (const auto node = top.raw("cas"); node && node->is_sequence() && node->size() == 0) {
    top.context().error(top.position_of_field("cas"), "cas", "at least one CAS instance is needed");
  }
  for (const auto& [item, item_path] : items) {
    auto reader = as_map(item, item_path, top.context());
    if (!reader) {
      continue;
    }
    CasInstance cas;
    cas.name = reader->string("name").value_or("cas");
    cas.aliases = reader->string_list("alias");
    auto url = reader->string("cas_url", Need::required);
    cas.cas_key = non_empty(reader->string("cas_key"));
    cas.cas_software_key = non_empty(reader->string("cas_software_key"));
    cas.cas_encryption_key = non_empty(reader->string("cas_encryption_key"));
    cas.tolerance = reader->string("tolerance");
    cas.mode = enum_field<PolicyHandling>(
        *reader, "mode", policy_handling_from, policy_handling_names(), "policy handling mode");
    cas.at = reader->positions();
    reader->report_unknown_fields();
    if (url) {
      cas.cas_url = std::move(*url);
      instances.push_back(std::move(cas));
    }
  }
  return instances;
}

MeshPolicy parse_policy(MapReader& top)
{
  MeshPolicy policy;
  auto reader = top.map("policy", Need::required);
  if (!reader) {
    return policy;
  }
  policy.namespace_name = reader->string("namespace", Need::required).value_or("");
  policy.tolerate = split_list(reader->string("tolerate").value_or(""));
  policy.ignore_advisories = split_list(reader->string("ignore_advisories").value_or(""));
  policy.maa = reader->string("maa");
  policy.image_policy_namespace = reader->string("image_policy_namespace");
  policy.access_policy_name = reader->string("access_policy_name");
  policy.attestation_policy_name = reader->string("attestation_policy_name");
  policy.security_policy_name = reader->string("security_policy_name");
  policy.at = reader->positions();
  reader->report_unknown_fields();
  return policy;
}

// One {name, value} entry of a mesh's `env`; std::nullopt (reported) when it is not one.
std::optional<MeshVariable> parse_mesh_variable(const yaml::Node& item,
                                                const std::string& item_path,
                                                ParseContext& context)
{
  auto reader = as_map(item, item_path, context);
  if (!reader) {
    return std::nullopt;
  }
  auto name = reader->string("name", Need::required);
  auto value = reader->text("value", Need::present);
  auto at = reader->positions();
  reader->report_unknown_fields();
  if (!name || !value) {
    return std::nullopt;
  }
  return MeshVariable{.name = std::move(*name), .value = std::move(*value), .at = at};
}

std::vector<MeshVariable> parse_mesh_variables(MapReader& block, const std::string& key)
{
  std::vector<MeshVariable> variables;
  for (const auto& [item, item_path] : block.list(key)) {
    if (auto variable = parse_mesh_variable(item, item_path, block.context())) {
      variables.push_back(std::move(*variable));
    }
  }
  return variables;
}

// `env` is a list of {service, env} blocks; before July 2022 it was a flat list of {name, value}.
std::vector<MeshEnvironment> parse_environment(MapReader& top)
{
  std::vector<MeshEnvironment> blocks;
  const auto items = top.list("env", Need::required);
  const bool legacy = !items.empty() && items.front().first.is_map()
                      && !items.front().first.find("service") && items.front().first.find("name");
  if (legacy) {
    MeshEnvironment global{.service = "global",
                           .at = {.path = "env", .self = top.position_of_field("env")}};
    for (const auto& [item, item_path] : items) {
      if (auto variable = parse_mesh_variable(item, item_path, top.context())) {
        global.variables.push_back(std::move(*variable));
      }
    }
    blocks.push_back(std::move(global));
    return blocks;
  }
  for (const auto& [item, item_path] : items) {
    auto reader = as_map(item, item_path, top.context());
    if (!reader) {
      continue;
    }
    auto service = reader->string("service", Need::required);
    auto variables = parse_mesh_variables(*reader, "env");
    auto at = reader->positions();
    reader->report_unknown_fields();
    if (service) {
      blocks.push_back(MeshEnvironment{
          .service = std::move(*service), .variables = std::move(variables), .at = at});
    }
  }
  return blocks;
}

// The file is a template: `{{namespace}}`, with or without spaces inside the braces (as template
// engines allow), becomes the mesh's namespace.
std::string with_namespace(const std::string& text, const std::string& namespace_name)
{
  static const std::regex placeholder(R"(\{\{[ \t]*namespace[ \t]*\}\})");
  std::string rendered;
  auto from = text.cbegin();
  for (std::sregex_iterator it(text.begin(), text.end(), placeholder), end; it != end; ++it) {
    rendered.append(from, (*it)[0].first).append(namespace_name);
    from = (*it)[0].second;
  }
  return rendered.append(from, text.cend());
}

// `helm_extra_values` is documented as a string of YAML; tutorials also write a mapping.
nlohmann::json parse_helm_extra_values(MapReader& reader)
{
  const auto node = reader.raw("helm_extra_values");
  // Empty (a template's variable left unset) means none, as null does.
  if (!node || node->is_null() || (node->is_scalar() && node->scalar().empty())) {
    return nullptr;
  }
  const auto path = reader.path_of("helm_extra_values");
  if (node->is_map()) {
    return to_json(*node, path, reader.context()).value_or(nullptr);
  }
  if (!node->is_scalar()) {
    reader.context().error(position_of(*node),
                           path,
                           "expected a mapping or a string of YAML, got " + describe_node(*node));
    return nullptr;
  }
  // Variables are expanded per value after parsing the text, so they cannot add structure.
  const auto at = position_of(*node);
  const auto loaded = load_embedded_yaml(node->scalar(), at, path, reader.context());
  if (!loaded) {
    return nullptr;
  }
  const auto& parsed = *loaded;
  if (!parsed.is_map()) {
    reader.context().error(position_of(*node),
                           path,
                           "expected a mapping of Helm values, got " + describe_node(parsed));
    return nullptr;
  }
  return to_json(parsed, path, reader.context(), at).value_or(nullptr);
}

// The default service name is the image's last path component without tag or digest. An image
// that does not parse is reported on its own field, or not at all when an unset variable made it
// so; its name is still the text after the last '/', so that it draws no second error as a
// service name.
std::string name_from_image(const std::string& image)
{
  if (const auto reference = parse_image_reference(image)) {
    return reference->name();
  }
  auto name = image.substr(0, image.find('@'));
  if (const auto slash = name.rfind('/'); slash != std::string::npos) {
    name.erase(0, slash + 1);
  }
  return name.substr(0, name.find(':'));
}

std::string display_path(const std::string& mesh_source, const std::string& relative)
{
  const auto parent = std::filesystem::path(mesh_source).parent_path();
  return (parent / relative).lexically_normal().string();
}

// Reads an `image_secrets` file: a bare list of secret definitions, where `{{namespace}}` stands
// for the policy namespace. Its diagnostics carry its own file name.
std::vector<SecretDefinition> read_image_secrets(const std::string& relative,
                                                 SourcePosition at,
                                                 const std::string& path,
                                                 const MeshPolicy& policy,
                                                 const std::filesystem::path& base_dir,
                                                 ParseContext& mesh_context,
                                                 std::vector<Diagnostic>& other_files)
{
  if (!fs::stays_inside(base_dir, relative)) {
    mesh_context.error(at, path, "'" + relative + "' must be a relative path inside the "
                                     "manifest's directory");
    return {};
  }
  const auto text = fs::read_text_file(base_dir / relative);
  if (!text) {
    mesh_context.error(at,
                       path,
                       "cannot read '" + relative + "': "
                           + text.error().message.substr(text.error().message.rfind(": ") + 2));
    return {};
  }
  const auto rendered = with_namespace(*text, policy.namespace_name);
  const auto source = display_path(mesh_context.file(), relative);
  ParseContext context(source, mesh_context.options(), ParseContext::Expand::nothing);
  std::vector<SecretDefinition> secrets;
  if (const auto root = load_yaml_document(rendered, context)) {
    if (!root->is_sequence()) {
      context.error(position_of(*root),
                    "",
                    "expected a list of secrets, got "
                        + describe_node(*root, ParseContext::Sensitivity::secret));
    } else {
      std::vector<std::pair<yaml::Node, std::string>> items;
      std::size_t index = 0;
      for (auto& item : root->items()) {
        items.emplace_back(std::move(item), index_path("", index++));
      }
      secrets = parse_secret_definitions(items, context);
      validate_secret_definitions(secrets, context);
    }
  }
  LoadReport report;
  context.finish(report);
  for (auto& diagnostic : report.diagnostics) {
    other_files.push_back(std::move(diagnostic));
  }
  return secrets;
}

std::vector<MeshService> parse_services(MapReader& top,
                                        const MeshPolicy& policy,
                                        const std::filesystem::path& base_dir,
                                        std::vector<Diagnostic>& other_files)
{
  std::vector<MeshService> services;
  const auto items = top.list("services", Need::required);
  if (const auto node = top.raw("services"); node && node->is_sequence() && node->size() == 0) {
    top.context().error(
        top.position_of_field("services"), "services", "a mesh needs at least one service");
  }
  for (const auto& [item, item_path] : items) {
    auto reader = as_map(item, item_path, top.context());
    if (!reader) {
      continue;
    }
    MeshService service;
    auto name = reader->string("name");
    auto image = reader->string("image", Need::required);
    service.image_secrets = reader->string("image_secrets");
    service.image_policy = reader->string("image_policy");
    service.env_file = reader->string("env");
    service.helm_chart = reader->string("helm_chart");
    service.helm_extra_values = parse_helm_extra_values(*reader);
    service.at = reader->positions();
    reader->report_unknown_fields();
    if (!image) {
      continue;
    }
    service.image = std::move(*image);
    service.name_derived_from_image = !name.has_value();
    service.name = name ? std::move(*name) : name_from_image(service.image);
    // Without a namespace (already reported) the file's {{namespace}} cannot be rendered.
    if (service.image_secrets && !policy.namespace_name.empty()) {
      service.image_secret_definitions = read_image_secrets(*service.image_secrets,
                                                            service.at.of("image_secrets"),
                                                            join_path(item_path, "image_secrets"),
                                                            policy,
                                                            base_dir,
                                                            top.context(),
                                                            other_files);
    }
    services.push_back(std::move(service));
  }
  return services;
}

std::optional<Repo> parse_repo(MapReader& top)
{
  auto reader = top.map("repo");
  if (!reader) {
    return std::nullopt;
  }
  Repo repo{.destination = reader->string("destination", Need::required).value_or(""),
            .push = reader->boolean("push"),
            .squash = reader->boolean("squash"),
            .strip = reader->boolean("strip"),
            .key_file = reader->string("key_file"),
            .config_id = reader->string("config_id"),
            .at = reader->positions()};
  reader->report_unknown_fields();
  return repo;
}

std::vector<ExtraPolicy> parse_extra_policies(MapReader& top)
{
  std::vector<ExtraPolicy> policies;
  for (const auto& [item, item_path] : top.list("extra_policies")) {
    auto reader = as_map(item, item_path, top.context());
    if (!reader) {
      continue;
    }
    auto name = reader->string("name", Need::required);
    auto mode = reader->string("mode");
    reader->report_unknown_fields();
    if (name) {
      policies.push_back(ExtraPolicy{.name = std::move(*name), .mode = std::move(mode)});
    }
  }
  return policies;
}

}  // namespace

std::optional<MeshManifest> parse_mesh(MapReader& top,
                                       const std::filesystem::path& base_dir,
                                       std::vector<Diagnostic>& other_files)
{
  MeshManifest manifest;
  manifest.base_dir = base_dir;
  manifest.api_version = api_version_field(top);
  manifest.cas = parse_cas(top);
  manifest.policy = parse_policy(top);
  manifest.environment = parse_environment(top);
  manifest.services = parse_services(top, manifest.policy, base_dir, other_files);
  manifest.repo = parse_repo(top);
  manifest.helm_extra_values = parse_helm_extra_values(top);
  manifest.extra_policies = parse_extra_policies(top);
  top.report_unknown_fields();
  return manifest;
}

}  // namespace sconectl::manifest::detail
