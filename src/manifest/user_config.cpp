#include "sconectl/manifest/user_config.hpp"

#include "parse_context.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/fs.hpp"
#include "yaml_document.hpp"

namespace sconectl::manifest {

std::filesystem::path user_config_path(const std::optional<std::filesystem::path>& explicit_path,
                                       const VariableLookup& variables)
{
  if (explicit_path) {
    return *explicit_path;
  }
  if (const auto path = variables("SCONECTL_CONFIG"); path && !path->empty()) {
    return *path;
  }
  if (const auto dir = variables("XDG_CONFIG_HOME"); dir && !dir->empty()) {
    return std::filesystem::path(*dir) / "sconectl" / "config.yaml";
  }
  const auto home = variables("HOME");
  return std::filesystem::path(home ? *home : std::string(".")) / ".config" / "sconectl"
         / "config.yaml";
}

Result<UserConfig> read_user_config(const std::optional<std::filesystem::path>& explicit_path,
                                    const VariableLookup& variables)
{
  const bool named = explicit_path.has_value() || variables("SCONECTL_CONFIG").has_value();
  const auto path = user_config_path(explicit_path, variables);
  if (!named && !std::filesystem::exists(path)) {
    return UserConfig{};
  }
  const auto text = fs::read_text_file(path);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  const LoadOptions options{.undefined_variables = UndefinedVariables::allow};
  detail::ParseContext context(path.string(), options, detail::ParseContext::Expand::nothing);
  UserConfig config;
  if (const auto root = detail::load_yaml_document(*text, context)) {
    if (auto top = detail::as_map(*root, "", context)) {
      if (auto images = top->map("base_images")) {
        for (const auto& name : build_kind_names()) {
          if (auto image = images->string(std::string(name))) {
            config.base_images[std::string(name)] = *image;
          }
        }
        images->report_unknown_fields();
      }
      top->report_unknown_fields();
    }
  }
  LoadReport report;
  context.finish(report);
  if (has_errors(report.diagnostics)) {
    return fail(Error{.kind = ErrorKind::usage,
                      .message = "invalid configuration file " + path.string(),
                      .diagnostics = std::move(report.diagnostics)});
  }
  return config;
}

}  // namespace sconectl::manifest
