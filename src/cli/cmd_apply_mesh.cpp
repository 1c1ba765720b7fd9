#include "apply_options.hpp"
#include "cas_options.hpp"
#include "report.hpp"
#include "sconectl/apply/apply_mesh.hpp"
#include "sconectl/apply/plan_mesh.hpp"
#include "sconectl/apply/upload_mesh.hpp"
#include "sconectl/chart/helm_chart.hpp"

#include <spdlog/spdlog.h>

namespace sconectl::cli {

namespace {

// Checks that the CAS is pinned or attested (no network yet), so a mistake there is reported
// before anything is generated. `purpose` is the context of its errors.
Result<cas::CasConnection> prepare_connection(const manifest::MeshManifest& mesh,
                                              const ApplyOptions& options,
                                              const Services& services,
                                              const std::string& purpose)
{
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  auto connection = connect_with(options.cas, services, cas->cas_url, cas->cas_key);
  if (!connection) {
    return forward_error(std::move(connection.error()), purpose);
  }
  return connection;
}

void print_text(const apply::MeshApplyResult& result,
                const std::optional<cas::UploadReport>& uploads,
                std::ostream& out)
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
  if (!result.secret_files.empty()) {
    out << "service access tokens (Kubernetes Secrets the chart names; private files, apply them "
           "before installing the chart):\n";
    for (const auto& file : result.secret_files) {
      out << "  kubectl apply -f " << file.string() << "\n";
    }
  }
  if (!uploads) {
    out << "nothing uploaded\n";
    return;
  }
  out << "uploaded to CAS " << uploads->cas << ":\n";
  for (const auto& session : uploads->sessions) {
    out << "  " << session.name << ": " << cas::to_string(session.action) << " " << session.hash
        << "\n";
  }
}

nlohmann::json uploads_json(const std::optional<cas::UploadReport>& uploads)
{
  if (!uploads) {
    return false;
  }
  auto sessions = nlohmann::json::array();
  for (const auto& session : uploads->sessions) {
    sessions.push_back(
        {{"name", session.name},
         {"action", cas::to_string(session.action)},
         {"hash", session.hash},
         {"predecessor",
          session.predecessor ? nlohmann::json(*session.predecessor) : nlohmann::json(nullptr)}});
  }
  return sessions;
}

nlohmann::json mesh_result_json(const apply::MeshApplyResult& result,
                                const std::optional<cas::UploadReport>& uploads)
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
          service.source == model::MetadataSource::descriptor ? "descriptor" : "image_labels"}});
  }
  auto sessions = nlohmann::json::array();
  for (std::size_t i = 0; i < result.sessions.size(); ++i) {
    sessions.push_back(
        {{"name", result.sessions[i].name}, {"file", result.session_files[i].string()}});
  }
  auto secret_files = nlohmann::json::array();
  for (const auto& file : result.secret_files) {
    secret_files.push_back(file.string());
  }
  return {{"namespace", result.mesh.manifest.policy.namespace_name},
          {"services", std::move(services)},
          {"sessions", std::move(sessions)},
          {"chart", {{"name", result.chart_name}, {"dir", result.chart_dir.string()}}},
          {"manifests",
           result.manifests_dir ? nlohmann::json(result.manifests_dir->string())
                                : nlohmann::json(nullptr)},
          {"secrets", std::move(secret_files)},
          {"uploaded", uploads_json(uploads)}};
}

}  // namespace

namespace {

// A machine without images: every service is taken from its descriptor in target/services.
class DescriptorsOnly final : public mesh::ImageSource {
 public:
  Result<std::optional<image::ImageInfo>> inspect(const std::string&, bool) override
  {
    return std::optional<image::ImageInfo>();
  }
  Result<std::string> measure(const image::MeasureRequest& request) override
  {
    return fail(ErrorKind::usage,
                "image " + request.reference
                    + ": no descriptor in target/services records it; run `sconectl apply -f` "
                      "on its service manifest first");
  }
  Result<std::map<std::string, std::string>> local_image_ids(
      const std::vector<std::string>&) override
  {
    return std::map<std::string, std::string>();
  }
};

// What generating the mesh takes from apply's options, with the images known from `images`.
apply::MeshApplyOptions generation_options(const ApplyOptions& options, mesh::ImageSource& images)
{
  return apply::MeshApplyOptions{.target_dir = options.target_directory,
                                 .pull = !options.no_registry,
                                 .measurer = options.measurer,
                                 .mode = options.mode,
                                 .release = options.release,
                                 .write_manifests = options.output == MeshOutput::yaml,
                                 .images = &images};
}

}  // namespace

Result<GeneratedMesh> generate_for_cas(const manifest::MeshManifest& mesh,
                                       const ApplyOptions& options,
                                       std::optional<std::string> connect_for,
                                       Services& services,
                                       ImageFacts facts)
{
  TRY(apply::check_release(options.release));
  std::optional<cas::CasConnection> connection;
  if (connect_for) {
    auto prepared = prepare_connection(mesh, options, services, *connect_for);
    if (!prepared) {
      return forward_error(std::move(prepared.error()));
    }
    connection = std::move(*prepared);
  }
  image::DockerCli docker(services.processes, services.docker_program, services.variables);
  TRY(use_engine_api(docker, services));
  mesh::DockerImageSource local_images(docker);
  DescriptorsOnly recorded;
  mesh::ImageSource& images =
      facts == ImageFacts::docker ? static_cast<mesh::ImageSource&>(local_images) : recorded;
  auto result = apply::generate_mesh(mesh, generation_options(options, images));
  if (!result) {
    return forward_error(std::move(result.error()));
  }
  print_diagnostics(services.err, result->mesh.warnings);
  return GeneratedMesh{std::move(connection), std::move(*result)};
}

Result<apply::MeshPlan> plan_upload(GeneratedMesh& generated,
                                    const std::string& target_directory,
                                    const diff::CompareOptions& compare)
{
  return apply::plan_upload(*generated.connection, generated.result, target_directory, compare);
}

Result<int> apply_mesh_manifest(const manifest::MeshManifest& mesh,
                                const ApplyOptions& options,
                                const GlobalOptions& global,
                                Services& services)
{
  image::DockerCli docker(services.processes, services.docker_program, services.variables);
  TRY(use_engine_api(docker, services));
  mesh::DockerImageSource images(docker);
  const auto connect = [&]() -> Result<cas::CasConnection> {
    const auto* cas = manifest::cas_for_role(mesh, "cas");
    return connect_with(options.cas, services, cas->cas_url, cas->cas_key);
  };
  auto outcome = apply::apply_mesh(
      mesh,
      generation_options(options, images),
      options.dry_run,
      apply::MeshUploadOptions{.concurrency = options.cas.concurrency,
                               .plan_file = options.plan_file,
                               .force_conflicts = options.force_conflicts,
                               .consent = {.secret_regeneration = options.allow_secret_regeneration,
                                           .weaker_attestation = options.allow_weaker_attestation}},
      connect,
      apply::MeshApplyObserver{.diagnostics =
                                   [&](const std::vector<Diagnostic>& warnings) {
                                     print_diagnostics(services.err, warnings);
                                   },
                               .warning =
                                   [&](const std::string& line) {
                                     services.err << "sconectl: warning: " << line << '\n';
                                   }});
  if (!outcome) {
    return forward_error(std::move(outcome.error()));
  }
  if (global.format == OutputFormat::json) {
    services.out << mesh_result_json(outcome->result, outcome->uploads).dump(2) << '\n';
  } else if (!global.quiet) {
    print_text(outcome->result, outcome->uploads, services.out);
  }
  return exit_code::ok;
}

}  // namespace sconectl::cli
