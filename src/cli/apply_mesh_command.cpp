#include "apply_options.hpp"
#include "report.hpp"
#include "sconectl/mesh/apply_mesh.hpp"

namespace sconectl::cli {

namespace {

using manifest::PolicyHandling;

// Only generation is available in this version: --dry-run or mode NoUpload write the policies
// and upload nothing. Every other mode is refused before anything is generated.
Result<void> check_policy_handling(const manifest::MeshManifest& mesh, const ApplyOptions& options)
{
  if (options.dry_run) {
    return {};
  }
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  const auto mode = cas && cas->mode ? *cas->mode : PolicyHandling::upload;
  if (mode == PolicyHandling::no_upload) {
    return {};
  }
  std::string message =
      "cas mode " + std::string(manifest::to_string(mode)) + " is not supported by this sconectl; ";
  if (mode == PolicyHandling::upload) {
    message = "uploading policies to a CAS (mode Upload) is not available in this sconectl yet; ";
  }
  return fail(ErrorKind::usage,
              message + "use --dry-run, or mode: NoUpload, to generate the policies and the chart "
                        "under " + options.target_directory);
}

void print_text(const mesh::MeshApplyResult& result, std::ostream& out)
{
  for (const auto& service : result.mesh.services) {
    out << service.name << ": " << service.image
        << (service.image_digest ? "@" + *service.image_digest : std::string()) << "\n"
        << "  measurement (" << service.measurement_method << "): " << service.measurement << "\n"
        << "  from: " << service.source_detail << "\n";
  }
  out << "policies:\n";
  for (const auto& file : result.session_files) {
    out << "  " << file.string() << "\n";
  }
  out << "chart: " << result.chart_dir.string() << " (" << result.chart_name << ")\n";
  if (result.manifests_dir) {
    out << "manifests: " << result.manifests_dir->string() << "\n";
  }
  out << "nothing uploaded\n";
}

nlohmann::json to_json(const mesh::MeshApplyResult& result)
{
  auto services = nlohmann::json::array();
  for (const auto& service : result.mesh.services) {
    services.push_back(
        {{"name", service.name},
         {"session", service.session},
         {"image", service.image},
         {"digest",
          service.image_digest ? nlohmann::json(*service.image_digest) : nlohmann::json(nullptr)},
         {"measurement", {{"method", service.measurement_method}, {"value", service.measurement}}},
         {"source",
          service.source == mesh::MetadataSource::descriptor ? "descriptor" : "image_labels"}});
  }
  auto sessions = nlohmann::json::array();
  for (std::size_t i = 0; i < result.sessions.size(); ++i) {
    sessions.push_back(
        {{"name", result.sessions[i].name}, {"file", result.session_files[i].string()}});
  }
  return {{"namespace", result.mesh.manifest.policy.namespace_name},
          {"services", std::move(services)},
          {"sessions", std::move(sessions)},
          {"chart", {{"name", result.chart_name}, {"dir", result.chart_dir.string()}}},
          {"manifests",
           result.manifests_dir ? nlohmann::json(result.manifests_dir->string())
                                : nlohmann::json(nullptr)},
          {"uploaded", false}};
}

}  // namespace

Result<int> apply_mesh_manifest(const manifest::MeshManifest& mesh,
                                const ApplyOptions& options,
                                const GlobalOptions& global,
                                Services& services)
{
  if (auto supported = check_policy_handling(mesh, options); !supported) {
    return tl::unexpected(std::move(supported.error()));
  }
  if (!options.release.empty()) {
    if (const auto problem = chart::check_release_name(options.release); !problem.empty()) {
      return fail(ErrorKind::usage, "--release '" + options.release + "': " + problem);
    }
  }
  image::DockerCli docker(services.processes, services.docker_program);
  mesh::DockerImageSource images(docker);
  auto result = mesh::generate_mesh(
      mesh,
      mesh::MeshApplyOptions{.target_dir = options.target_directory,
                             .pull = !options.no_registry,
                             .measurer = options.measurer,
                             .mode = options.mode,
                             .release = options.release,
                             .write_manifests = options.output == MeshOutput::yaml,
                             .images = &images});
  if (!result) {
    return tl::unexpected(std::move(result.error()));
  }
  print_diagnostics(services.err, result->mesh.warnings);
  if (global.format == OutputFormat::json) {
    services.out << to_json(*result).dump(2) << '\n';
  } else if (!global.quiet) {
    print_text(*result, services.out);
  }
  return exit_code::ok;
}

}  // namespace sconectl::cli
