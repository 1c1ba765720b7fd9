#include "parse_document.hpp"
#include "parse_fields.hpp"

namespace sconectl::manifest::detail {

namespace {

std::vector<EnvironmentVariable> parse_variables(MapReader& environment,
                                                 const std::string& key,
                                                 Need value_need)
{
  std::vector<EnvironmentVariable> variables;
  for (const auto& [item, item_path] : environment.list(key)) {
    auto reader = as_map(item, item_path, environment.context());
    if (!reader) {
      continue;
    }
    auto name = reader->string("name", Need::required);
    auto value = reader->text("value", value_need);
    auto at = reader->positions();
    reader->report_unknown_fields();
    if (name) {
      variables.push_back(
          EnvironmentVariable{.name = std::move(*name), .value = std::move(value), .at = at});
    }
  }
  return variables;
}

std::vector<InjectionFile> parse_injection_files(MapReader& top)
{
  std::vector<InjectionFile> files;
  for (const auto& [item, item_path] : top.list("injection_files")) {
    auto reader = as_map(item, item_path, top.context());
    if (!reader) {
      continue;
    }
    auto path = reader->string("path", Need::required);
    auto content = reader->text("content", Need::present);
    auto at = reader->positions();
    reader->report_unknown_fields();
    if (path && content) {
      files.push_back(
          InjectionFile{.path = std::move(*path), .content = std::move(*content), .at = at});
    }
  }
  return files;
}

std::optional<VolumeImport> parse_volume_import(MapReader& volume)
{
  auto reader = volume.map("import");
  if (!reader) {
    return std::nullopt;
  }
  auto session = reader->string("session", Need::required);
  auto name = reader->string("volume", Need::required);
  reader->report_unknown_fields();
  if (!session || !name) {
    return std::nullopt;
  }
  return VolumeImport{.session = std::move(*session), .volume = std::move(*name)};
}

std::vector<Volume> parse_volumes(MapReader& build)
{
  std::vector<Volume> volumes;
  for (const auto& [item, item_path] : build.list("volumes")) {
    auto reader = as_map(item, item_path, build.context());
    if (!reader) {
      continue;
    }
    Volume volume;
    auto name = reader->string("name", Need::required);
    volume.path = reader->string("path");
    volume.import = parse_volume_import(*reader);
    for (const auto& [export_item, export_path] : reader->list("export")) {
      auto exported = as_map(export_item, export_path, build.context());
      if (!exported) {
        continue;
      }
      auto session = exported->string("session", Need::required);
      VolumeExport entry{.session = session.value_or(""),
                         .session_hash = exported->string("session_hash"),
                         .update_policy = exported->string("update_policy"),
                         .volume_alias = exported->string("volume_alias"),
                         .at = exported->positions()};
      exported->report_unknown_fields();
      if (session) {
        volume.exports.push_back(std::move(entry));
      }
    }
    volume.at = reader->positions();
    reader->report_unknown_fields();
    if (name) {
      volume.name = std::move(*name);
      volumes.push_back(std::move(volume));
    }
  }
  return volumes;
}

std::optional<Signature> parse_signature(MapReader& build)
{
  auto reader = build.map("signature");
  if (!reader) {
    return std::nullopt;
  }
  Signature signature{.sign = reader->boolean("sign"), .key = reader->string("key")};
  reader->report_unknown_fields();
  return signature;
}

std::optional<std::string> parse_gen_policy(MapReader& build)
{
  auto reader = build.map("gen_policy");
  if (!reader) {
    return std::nullopt;
  }
  auto policy = reader->string("policy");
  reader->report_unknown_fields();
  return policy;
}

std::optional<Build> parse_build(MapReader& top)
{
  auto reader = top.map("build", Need::required);
  if (!reader) {
    return std::nullopt;
  }
  Build build;
  auto name = reader->string("name", Need::required);
  auto kind = enum_field<BuildKind>(
      *reader, "kind", build_kind_from, build_kind_names(), "build kind", Need::required);
  auto to = reader->string("to", Need::required);
  auto command = reader->string("command", Need::required);
  build.from = reader->string("from");
  build.pwd = reader->string("pwd");
  build.copy = reader->string_list("copy");
  build.requirements = reader->string("requirements");
  build.run = reader->string_list("run", Need::optional, ScalarKind::text);
  build.signature = parse_signature(*reader);
  build.binaries = reader->string_list("binaries");
  build.dirs = reader->string_list("dirs");
  build.fs_dirs = reader->string_list("fs_dirs");
  build.fs_files = reader->string_list("fs_files");
  build.plains = reader->string_list("plains");
  build.plain_files = reader->string_list("plain_files");
  build.host_paths = reader->string_list("host_paths");
  build.stable = reader->string("stable");
  build.volumes = parse_volumes(*reader);
  build.gen_policy = parse_gen_policy(*reader);
  build.at = reader->positions();
  if (reader->raw("host_path")) {
    reader->context().warning(reader->position_of_field("host_path"),
                              reader->path(),
                              "field 'host_path' was renamed to 'host_paths'");
  }
  reader->report_unknown_fields();
  if (!name || !kind || !to || !command) {
    return std::nullopt;
  }
  build.name = std::move(*name);
  build.kind = *kind;
  build.to = std::move(*to);
  build.command = std::move(*command);
  return build;
}

}  // namespace

std::optional<ServiceManifest> parse_service(MapReader& top)
{
  ServiceManifest manifest;
  manifest.api_version = api_version_field(top);
  if (auto environment = top.map("environment", Need::required)) {
    manifest.local_environment = parse_variables(*environment, "local", Need::present);
    manifest.global_environment = parse_variables(*environment, "global", Need::optional);
    environment->report_unknown_fields();
  }
  if (auto secrets = top.map("secrets")) {
    manifest.secrets = parse_secret_definitions(secrets->list("global"), top.context());
    for (const auto& [item, item_path] : secrets->list("import")) {
      if (auto name = as_string(item, item_path, top.context())) {
        manifest.imported_secrets.push_back(
            SecretImport{.name = std::move(*name), .at = position_of(item)});
      }
    }
    secrets->report_unknown_fields();
  }
  manifest.injection_files = parse_injection_files(top);
  auto build = parse_build(top);
  top.report_unknown_fields();
  if (!build) {
    return std::nullopt;
  }
  manifest.build = std::move(*build);
  return manifest;
}

}  // namespace sconectl::manifest::detail
