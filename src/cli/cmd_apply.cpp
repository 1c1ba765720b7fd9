#include "apply_options.hpp"
#include "command.hpp"
#include "print_defaults.hpp"
#include "report.hpp"
#include "sconectl/manifest/load.hpp"

#include <memory>

namespace sconectl::cli {

namespace {

Result<int> print_defaults(const ApplyOptions& options,
                           const GlobalOptions& global,
                           Services& services)
{
  const manifest::LoadOptions load_options{
      .strictness = options.strict ? manifest::Strictness::strict : manifest::Strictness::lenient,
      .undefined_variables = manifest::UndefinedVariables::allow,
      .variables = services.variables};
  auto report = manifest::read_manifest(options.file, load_options);
  if (!report.ok()) {
    return manifest::to_result(std::move(report)).map([](auto&&) { return 0; });
  }
  print_diagnostics(services.err, report.diagnostics);
  const auto description = describe_variables(report);
  if (global.format == OutputFormat::json) {
    services.out << description.dump(2) << '\n';
  } else {
    print_variables(services.out, description);
  }
  return exit_code::ok;
}

}  // namespace

Result<manifest::Document> load_apply_manifest(const ApplyOptions& options, Services& services)
{
  const manifest::LoadOptions load_options{
      .strictness = options.strict ? manifest::Strictness::strict : manifest::Strictness::lenient,
      .variables = services.variables};
  auto report = manifest::read_manifest(options.file, load_options);
  print_diagnostics(services.err, report.ok() ? report.diagnostics : std::vector<Diagnostic>{});
  return manifest::to_result(std::move(report));
}

void add_mesh_file_options(CLI::App& command,
                           ApplyOptions& options,
                           const std::string& mode_help,
                           const std::string& release_help)
{
  command.add_option("-f,--filename", options.file, "Mesh manifest")->required();
  choices(command.add_option("--mode", options.mode, mode_help),
          std::map<std::string, model::EnclaveMode>{{"production", model::EnclaveMode::production},
                                                    {"debug", model::EnclaveMode::debug}},
          "production");
  command.add_option("--release", options.release, release_help);
  command.add_option("-t,--target-directory", options.target_directory, "Where generated files go")
      ->default_str("target");
}

Result<manifest::MeshManifest> load_mesh_manifest(const ApplyOptions& options,
                                                  Services& services,
                                                  const std::string& purpose)
{
  auto document = load_apply_manifest(options, services);
  if (!document) {
    return forward_error(std::move(document.error()));
  }
  auto* mesh = std::get_if<manifest::MeshManifest>(&*document);
  if (mesh == nullptr) {
    return fail(
        ErrorKind::usage,
        options.file + ": " + purpose + "; this is a genservice manifest (kind: mesh expected)");
  }
  return std::move(*mesh);
}

namespace {

Result<int> run_apply(const ApplyOptions& options, const GlobalOptions& global, Services& services)
{
  if (options.print_defaults) {
    return print_defaults(options, global, services);
  }
  auto document = load_apply_manifest(options, services);
  if (!document) {
    return forward_error(std::move(document.error()));
  }
  if (const auto* service = std::get_if<manifest::ServiceManifest>(&*document)) {
    return apply_service_manifest(*service, options, global, services);
  }
  return apply_mesh_manifest(
      std::get<manifest::MeshManifest>(*document), options, global, services);
}

}  // namespace

Action add_apply_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto options = std::make_shared<ApplyOptions>();
  auto* command = app.add_subcommand(
      "apply",
      "Build a service's confidential image (kind: genservice), or generate a mesh's "
      "CAS policies and Helm chart (kind: mesh)");
  command->add_option("-f,--filename", options->file, "Service or mesh manifest")->required();
  command->add_flag("-p,--print-defaults",
                    options->print_defaults,
                    "List the variables the manifest uses and their defaults, then stop");
  command->add_flag("-n,--no-push,--no-pull",
                    options->no_registry,
                    "Service: build without pushing. Mesh: use local images without pulling");
  choices(command->add_option("--mode", options->mode, "Enclave mode recorded in the policy"),
          std::map<std::string, model::EnclaveMode>{{"production", model::EnclaveMode::production},
                                                    {"debug", model::EnclaveMode::debug}},
          "production");
  command->add_option("--release", options->release, "Helm release name (mesh)");
  command
      ->add_option("-t,--target-directory", options->target_directory, "Where generated files go")
      ->default_str("target");
  command->add_flag("-d,--dry-run", options->dry_run, "Generate everything, upload nothing");
  choices(command->add_option("-o,--output",
                              options->output,
                              "Mesh: helm_chart (always written), yaml (also plain manifests)"),
          std::map<std::string, MeshOutput>{{"helm_chart", MeshOutput::helm_chart},
                                            {"yaml", MeshOutput::yaml}},
          "helm_chart");
  command->add_option("--set-version", options->set_version, "Tag of the default base images");
  command->add_flag("--strict", options->strict, "Treat warnings (e.g. unknown fields) as errors");
  command->add_flag(
      "--force", options->force, "Service: rebuild even when the image is up to date");
  choices(
      command->add_option("--measure",
                          options->measurer,
                          "Service: how to measure the enclave (content: computed from the image's "
                          "files; scone: run it with SCONE_HASH=1)"),
      std::map<std::string, image::Measurer>{{"content", image::Measurer::content},
                                             {"scone", image::Measurer::scone}},
      "content");
  choices(command->add_option("--runtime",
                              options->runtime,
                              "Service: none, or sim: the simulation runtime attests to the CAS "
                              "and runs the program with its CAS configuration. SIMULATION: no "
                              "SGX, no hardware protection"),
          std::map<std::string, ServiceRuntime>{{"none", ServiceRuntime::none},
                                                {"sim", ServiceRuntime::sim}},
          "none");
  command->add_flag("--allow-persistent-injection",
                    options->allow_persistent_injection,
                    "Service, --runtime sim: let the runtime write injection files onto a "
                    "persistent file system (INSECURE: they outlive the container)");
  command->add_option(
      "--base-image", options->base_image, "Service: base image when build.from is not set");
  command->add_option("--config",
                      options->config_file,
                      "Configuration file (default: $SCONECTL_CONFIG or "
                      "~/.config/sconectl/config.yaml)");
  add_cas_options(*command, options->cas, false);
  command
      ->add_option("--cas-concurrency",
                   options->cas.concurrency,
                   "Mesh: session uploads in flight at once, each on its own connection to the CAS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_option("--plan",
                      options->plan_file,
                      "Mesh: upload exactly this plan (written by diff --out); refuse, uploading "
                      "nothing, when the CAS or the manifests changed since");
  command->add_flag("--force-conflicts",
                    options->force_conflicts,
                    "Mesh: replace sessions that someone else changed on the CAS since the last "
                    "apply from this target directory (refused without it)");
  command->add_flag("--allow-secret-regeneration",
                    options->allow_secret_regeneration,
                    "Mesh, --mode production: let CAS generate new values for changed secret "
                    "definitions (the old values are lost for good)");
  command->add_flag("--allow-weaker-attestation",
                    options->allow_weaker_attestation,
                    "Mesh, --mode production: allow changes that make attestation prove less "
                    "(added tolerations, ignored advisories, a weaker mode)");
  return [options, &global, &services]() -> Result<int> {
    return run_apply(*options, global, services);
  };
}

}  // namespace sconectl::cli
