#include "apply_options.hpp"
#include "cas_options.hpp"
#include "report.hpp"
#include "sconectl/apply/apply_mesh.hpp"
#include "sconectl/apply/plan_mesh.hpp"
#include "sconectl/chart/helm_chart.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace sconectl::cli {

namespace {

// Checks that the CAS is pinned or attested (no network yet), so a mistake there is reported
// before anything is generated.
Result<cas::CasConnection> prepare_connection(const manifest::MeshManifest& mesh,
                                              const ApplyOptions& options,
                                              const Services& services)
{
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  auto connection = connect_with(options.cas, services, cas->cas_url, cas->cas_key);
  if (!connection) {
    return forward_error(std::move(connection.error()), "uploading the policies");
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

nlohmann::json to_json(const apply::MeshApplyResult& result,
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

}  // namespace

Result<GeneratedMesh> generate_for_cas(const manifest::MeshManifest& mesh,
                                       const ApplyOptions& options,
                                       bool connect,
                                       Services& services,
                                       ImageFacts facts)
{
  if (!options.release.empty()) {
    if (const auto problem = chart::check_release_name(options.release); !problem.empty()) {
      return fail(ErrorKind::usage, "--release '" + options.release + "': " + problem);
    }
  }
  std::optional<cas::CasConnection> connection;
  if (connect) {
    auto prepared = prepare_connection(mesh, options, services);
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
  auto result = apply::generate_mesh(
      mesh,
      apply::MeshApplyOptions{.target_dir = options.target_directory,
                              .pull = !options.no_registry,
                              .measurer = options.measurer,
                              .mode = options.mode,
                              .release = options.release,
                              .write_manifests = options.output == MeshOutput::yaml,
                              .images = &images});
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
  auto& connection = *generated.connection;
  auto record = cas::load_upload_record(target_directory);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  apply::ServiceImages images;
  for (const auto& service : generated.result.mesh.services) {
    images.emplace(service.session + "/" + service.name,
                   service.image + (service.image_digest ? "@" + *service.image_digest : ""));
  }
  cas::CasClient client(*connection.transport);
  return apply::plan_mesh(client,
                          generated.result.sessions,
                          connection.own_key_hash,
                          *record,
                          connection.address.authority(),
                          images,
                          compare);
}

namespace {

// Before an upload: with a reviewed plan, refuses unless the CAS and the manifests still give
// exactly that plan; without one, prints the risk lines. In production mode, regenerating a
// secret or weakening attestation needs its flag either way. Returns the plan.
Result<apply::MeshPlan> check_before_upload(GeneratedMesh& generated,
                                            const ApplyOptions& options,
                                            Services& services)
{
  auto plan = plan_upload(generated, options.target_directory);
  if (!plan) {
    return forward_error(std::move(plan.error()));
  }
  if (!options.plan_file.empty()) {
    auto reviewed = apply::load_reviewed_plan(options.plan_file);
    if (!reviewed) {
      return forward_error(std::move(reviewed.error()));
    }
    const auto problems = apply::plan_mismatches(*reviewed, *plan);
    if (!problems.empty()) {
      std::string message = options.plan_file
                            + ": the CAS or the manifests changed since this plan was made; "
                              "nothing was uploaded. Run diff again and review the new plan:";
      for (const auto& problem : problems) {
        message += "\n  " + problem;
      }
      return fail(ErrorKind::conflict, message);
    }
  } else {
    // Someone else's version is replaced only on request: a plain apply would otherwise build
    // on top of a change nobody here has seen (kubectl apply's field conflicts, likewise).
    std::vector<const apply::SessionPlan*> changed_elsewhere;
    for (const auto& session : plan->sessions) {
      if (session.changed_elsewhere()) {
        changed_elsewhere.push_back(&session);
      }
    }
    if (!changed_elsewhere.empty() && !options.force_conflicts) {
      std::string message =
          "sessions changed on the CAS since the last apply from this target directory; "
          "nothing was uploaded:";
      for (const auto* session : changed_elsewhere) {
        message += "\n  " + session->name + ": recorded " + *session->recorded_hash
                   + ", the CAS has " + *session->current_hash;
      }
      message +=
          "\nSee the change with `sconectl diff -f <mesh>` (or `sconectl session get NAME --hash "
          "HASH`); to replace it with what these manifests produce, apply with --force-conflicts";
      return fail(ErrorKind::conflict, message);
    }
    for (const auto& line : apply::risk_lines(*plan)) {
      services.err << "sconectl: warning: " << line << '\n';
    }
  }
  if (options.mode == model::EnclaveMode::production) {
    if (auto consent =
            apply::check_consent(*plan,
                                 {.secret_regeneration = options.allow_secret_regeneration,
                                  .weaker_attestation = options.allow_weaker_attestation});
        !consent) {
      return forward_error(std::move(consent.error()));
    }
  }
  return plan;
}

}  // namespace

Result<int> apply_mesh_manifest(const manifest::MeshManifest& mesh,
                                const ApplyOptions& options,
                                const GlobalOptions& global,
                                Services& services)
{
  const auto wants_upload = apply::wants_upload(mesh, options.dry_run);
  if (!wants_upload) {
    return forward_error(std::move(wants_upload.error()));
  }
  if (!options.plan_file.empty() && !*wants_upload) {
    return fail(ErrorKind::usage,
                "--plan " + options.plan_file
                    + ": this apply uploads nothing (--dry-run or a NoUpload mesh)");
  }
  auto generated = generate_for_cas(mesh, options, *wants_upload, services);
  if (!generated) {
    return forward_error(std::move(generated.error()));
  }
  std::optional<cas::UploadReport> uploads;
  if (generated->connection) {
    auto plan = check_before_upload(*generated, options, services);
    if (!plan) {
      return forward_error(std::move(plan.error()));
    }
    // Sessions changed by someone else, already reported with the risk lines.
    std::set<std::string> reported;
    for (const auto& session : plan->sessions) {
      if (options.plan_file.empty() && session.changed_elsewhere()) {
        reported.insert(session.name);
      }
    }
    // The upload starts from the versions the plan read (and checked), not from a new read.
    auto uploaded = apply::upload_policies(*generated->connection,
                                           options.cas.concurrency,
                                           generated->result.sessions,
                                           options.target_directory,
                                           &plan->current_versions);
    if (!uploaded) {
      return forward_error(std::move(uploaded.error()));
    }
    for (const auto& warning : uploaded->warnings) {
      const auto already = std::any_of(reported.begin(), reported.end(), [&](const auto& name) {
        return warning.starts_with("session '" + name + "'");
      });
      if (!already) {
        services.err << "sconectl: warning: " << warning << '\n';
      }
    }
    uploads = std::move(*uploaded);
  }
  const auto& result = generated->result;
  if (global.format == OutputFormat::json) {
    services.out << to_json(result, uploads).dump(2) << '\n';
  } else if (!global.quiet) {
    print_text(result, uploads, services.out);
  }
  return exit_code::ok;
}

}  // namespace sconectl::cli
