#include "command.hpp"
#include "report.hpp"
#include "sconectl/manifest/load.hpp"

#include <memory>

namespace sconectl::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  bool strict = false;
};

int run_validate(const ValidateOptions& options, const GlobalOptions& global, Services& services)
{
  const manifest::LoadOptions load_options{
      .strictness = options.strict ? manifest::Strictness::strict : manifest::Strictness::lenient,
      .variables = services.variables};
  bool all_valid = true;
  auto results = nlohmann::json::array();
  for (const auto& file : options.files) {
    const auto report = manifest::read_manifest(file, load_options);
    const bool valid = report.ok();
    all_valid = all_valid && valid;
    if (global.format == OutputFormat::json) {
      results.push_back(
          {{"file", file},
           {"kind", report.kind.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.kind)},
           {"valid", valid},
           {"diagnostics", to_json(report.diagnostics)}});
      continue;
    }
    print_diagnostics(services.err, report.diagnostics);
    if (valid) {
      if (!global.quiet) {
        services.out << file << ": valid " << manifest::kind_name(*report.document)
                     << " manifest\n";
      }
    } else if (report.unreadable) {
      services.err << "sconectl: error: cannot read " << file << "\n";
    } else {
      std::size_t errors = 0;
      for (const auto& diagnostic : report.diagnostics) {
        errors += diagnostic.severity == Severity::error ? 1 : 0;
      }
      services.err << "sconectl: error: " << file << " is invalid (" << errors
                   << (errors == 1 ? " error)\n" : " errors)\n");
    }
  }
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"valid", all_valid}, {"manifests", results}}.dump(2) << '\n';
  }
  return all_valid ? exit_code::ok : exit_code::invalid_input;
}

}  // namespace

Action add_validate_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto options = std::make_shared<ValidateOptions>();
  auto* command = app.add_subcommand(
      "validate", "Check service and mesh manifests without building or uploading anything");
  command->add_option("-f,--filename", options->files, "Manifest to check (repeatable)")
      ->required()
      ->allow_extra_args(false);
  command->add_flag("--strict", options->strict, "Treat warnings (e.g. unknown fields) as errors");
  return [options, &global, &services]() -> Result<int> {
    return run_validate(*options, global, services);
  };
}

}  // namespace sconectl::cli
