#include "parse_document.hpp"
#include "parse_fields.hpp"
#include "sconectl/manifest/command_line.hpp"
#include "sconectl/util/fs.hpp"

#include <set>

namespace sconectl::manifest::detail {

namespace {

void check_variables(const ServiceManifest& manifest, ParseContext& context)
{
  std::map<std::string, const EnvironmentVariable*> seen;
  auto check = [&](const EnvironmentVariable& variable) {
    const auto path = join_path(variable.at.path, "name");
    if (const auto problem = check_variable_name(variable.name); !problem.empty()) {
      context.error(variable.at.of("name"),
                    path,
                    "'" + variable.name + "' is not a valid variable name; expected " + problem);
    }
    const auto [first, inserted] = seen.emplace(variable.name, &variable);
    if (!inserted) {
      context.error(
          variable.at.of("name"),
          path,
          "variable '" + variable.name + "' is defined twice (first in environment."
              + (first->second->at.path.find(".global") != std::string::npos ? "global" : "local")
              + " at line " + std::to_string(first->second->at.of("name").line) + ")");
    }
  };
  for (const auto& variable : manifest.local_environment) {
    check(variable);
  }
  for (const auto& variable : manifest.global_environment) {
    check(variable);
  }
}

KnownSecrets known_secrets(const ServiceManifest& manifest, ParseContext& context)
{
  KnownSecrets known;
  for (const auto& secret : manifest.secrets) {
    known.emplace(secret.name, secret.kind);
  }
  for (const auto& name : context.secrets_without_kind()) {
    known.emplace(name, std::nullopt);
  }
  for (std::size_t i = 0; i < manifest.imported_secrets.size(); ++i) {
    const auto& imported = manifest.imported_secrets[i];
    const auto path = index_path("secrets.import", i);
    if (const auto problem = check_secret_name(imported.name); !problem.empty()) {
      context.error(imported.at,
                    path,
                    "'" + imported.name + "' is not a valid secret name; expected " + problem);
    }
    if (known.count(imported.name) > 0) {
      context.error(
          imported.at, path, "secret '" + imported.name + "' is both defined here and imported");
      continue;
    }
    known.emplace(imported.name, std::nullopt);
  }
  return known;
}

void check_references(const ServiceManifest& manifest,
                      const KnownSecrets& known,
                      ParseContext& context)
{
  for (const auto* environment : {&manifest.local_environment, &manifest.global_environment}) {
    for (const auto& variable : *environment) {
      if (variable.value) {
        check_secret_references(*variable.value,
                                variable.at.of("value"),
                                join_path(variable.at.path, "value"),
                                known,
                                context);
      }
    }
  }
  std::set<std::string> injected;
  for (const auto& file : manifest.injection_files) {
    check_secret_references(
        file.content, file.at.of("content"), join_path(file.at.path, "content"), known, context);
    if (file.path.empty() || file.path.front() != '/') {
      context.error(file.at.of("path"),
                    join_path(file.at.path, "path"),
                    "'" + file.path + "' must be an absolute path");
    } else if (!injected.insert(file.path).second) {
      context.error(file.at.of("path"),
                    join_path(file.at.path, "path"),
                    "'" + file.path + "' is injected twice");
    }
  }
  check_secret_references(
      manifest.build.command, manifest.build.at.of("command"), "build.command", known, context);
}

void check_image(const std::optional<std::string>& reference,
                 const Build& build,
                 const std::string& field,
                 ParseContext& context)
{
  const auto path = "build." + field;
  if (!reference || context.has_variable_problem(path)) {
    return;
  }
  if (const auto problem = check_image_reference(*reference); !problem.empty()) {
    context.error(build.at.of(field),
                  path,
                  "'" + *reference + "' is not a valid image reference; expected " + problem);
  }
}

void check_local_paths(const ServiceManifest& manifest, ParseContext& context)
{
  const auto& build = manifest.build;
  auto check = [&](const std::string& relative, const std::string& path, SourcePosition at) {
    if (!fs::stays_inside(manifest.base_dir, relative)) {
      context.error(
          at, path, "'" + relative + "' must be a relative path inside the manifest's directory");
    }
  };
  for (std::size_t i = 0; i < build.copy.size(); ++i) {
    check(build.copy[i], index_path("build.copy", i), build.at.of("copy"));
    if (is_java(build.kind) && fs::stays_inside(manifest.base_dir, build.copy[i])) {
      if (const auto problem = java_copy_problem(manifest.base_dir, build.copy[i])) {
        context.error(build.at.of("copy"), index_path("build.copy", i), *problem);
      }
    }
  }
  if (build.requirements) {
    check(*build.requirements, "build.requirements", build.at.of("requirements"));
  }
}

void check_image_paths(const Build& build, ParseContext& context)
{
  const std::vector<std::pair<const char*, const std::vector<std::string>*>> lists{
      {"binaries", &build.binaries},
      {"dirs", &build.dirs},
      {"fs_dirs", &build.fs_dirs},
      {"fs_files", &build.fs_files},
      {"plains", &build.plains},
      {"plain_files", &build.plain_files},
      {"host_paths", &build.host_paths}};
  for (const auto& [field, values] : lists) {
    for (std::size_t i = 0; i < values->size(); ++i) {
      const auto& value = (*values)[i];
      if (value.empty() || value.front() != '/') {
        context.error(build.at.of(field),
                      index_path(std::string("build.") + field, i),
                      "'" + value + "' must be an absolute path in the image");
      }
    }
  }
  if (build.pwd && (build.pwd->empty() || build.pwd->front() != '/')) {
    context.error(build.at.of("pwd"), "build.pwd", "'" + *build.pwd + "' must be an absolute path");
  }
}

void check_volumes(const Build& build, ParseContext& context)
{
  static const std::set<std::string> update_policies{
      "rollback_protected", "ephemeral", "no_rollback_protection"};
  std::set<std::string> names;
  for (const auto& volume : build.volumes) {
    const auto& path = volume.at.path;
    if (const auto problem = check_session_segment(volume.name); !problem.empty()) {
      context.error(volume.at.of("name"),
                    join_path(path, "name"),
                    "'" + volume.name + "' is not a valid volume name; expected " + problem);
    }
    if (!names.insert(volume.name).second) {
      context.error(
          volume.at.of("name"), join_path(path, "name"), "duplicate volume '" + volume.name + "'");
    }
    if (volume.path && (volume.path->empty() || volume.path->front() != '/')) {
      context.error(volume.at.of("path"),
                    join_path(path, "path"),
                    "'" + *volume.path + "' must be an absolute path");
    }
    if (volume.import && !volume.exports.empty()) {
      context.error(volume.at.of("export"),
                    join_path(path, "export"),
                    "an imported volume cannot be exported again");
    }
    for (const auto& exported : volume.exports) {
      if (exported.update_policy && update_policies.count(*exported.update_policy) == 0) {
        context.error(exported.at.of("update_policy"), join_path(exported.at.path, "update_policy"),
                      "unknown update policy '" + *exported.update_policy
                          + "'; expected one of: ephemeral, no_rollback_protection, "
                            "rollback_protected");
      }
      if (exported.session_hash && !is_hex(*exported.session_hash, 64)) {
        context.error(exported.at.of("session_hash"),
                      join_path(exported.at.path, "session_hash"),
                      "expected 64 hex digits");
      }
    }
  }
}

}  // namespace

void validate_service(const ServiceManifest& manifest, ParseContext& context)
{
  const auto& build = manifest.build;
  check_variables(manifest, context);
  validate_secret_definitions(manifest.secrets, context);
  const auto known = known_secrets(manifest, context);
  check_secret_links(manifest.secrets, known, context);
  check_references(manifest, known, context);

  if (const auto problem = check_session_segment(build.name); !problem.empty()) {
    context.error(build.at.of("name"),
                  "build.name",
                  "'" + build.name + "' is not a valid service name; expected " + problem);
  }
  check_image(build.to, build, "to", context);
  check_image(build.from, build, "from", context);
  check_image(build.stable, build, "stable", context);
  if (const auto words = split_command(build.command); !words) {
    context.error(
        build.at.of("command"), "build.command", "unbalanced quotes or a trailing backslash");
  } else if (words->empty()) {
    context.error(build.at.of("command"), "build.command", "must not be empty");
  }
  if (build.kind == BuildKind::sconify_image && !build.from) {
    context.error(build.at.self,
                  "build.from",
                  "required for kind sconify_image: the native image to transform");
  }
  check_local_paths(manifest, context);
  check_image_paths(build, context);
  check_volumes(build, context);
}

}  // namespace sconectl::manifest::detail
