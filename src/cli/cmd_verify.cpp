#include "apply_options.hpp"
#include "command.hpp"
#include "palette.hpp"
#include "sconectl/cas/client_config.hpp"
#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/verify/verify.hpp"

#include <filesystem>
#include <map>
#include <memory>

namespace sconectl::cli {

namespace {

constexpr const char* k_verify_purpose = "verify checks a mesh's deployment";

struct VerifyOptions {
  ApplyOptions apply;
  std::string kubeconfig;
  std::string k8s_namespace;
  std::string kubectl;
  std::string evidence_dir;
  std::string offline_dir;
  std::size_t max_versions = 1000;
  [[nodiscard]] bool checks_cluster() const
  {
    return !kubeconfig.empty() || !k8s_namespace.empty();
  }
};

void print_report(const verify::Evidence& evidence,
                  const std::vector<verify::Finding>& findings,
                  const Palette& colour,
                  std::ostream& out)
{
  out << "CAS " << evidence.cas.address;
  if (evidence.cluster) {
    out << ", release " << evidence.cluster->release << " in namespace "
        << evidence.cluster->namespace_name;
  }
  out << "\n";
  for (const auto severity : {verify::Severity::error, verify::Severity::warning}) {
    if (verify::count(findings, severity) == 0) {
      continue;
    }
    out << colour.bold(severity == verify::Severity::error ? "errors:" : "warnings:") << "\n";
    for (const auto& finding : findings) {
      if (finding.severity != severity) {
        continue;
      }
      const auto line = finding.subject + ": " + finding.message + " [" + finding.kind + "]";
      out << "  " << (severity == verify::Severity::error ? colour.red(line) : colour.yellow(line))
          << "\n";
      for (const auto& detail : finding.details) {
        out << "      " << detail << "\n";
      }
    }
  }
  const auto errors = verify::count(findings, verify::Severity::error);
  const auto warnings = verify::count(findings, verify::Severity::warning);
  std::string checked = std::to_string(evidence.cas.sessions.size()) + " sessions";
  if (evidence.cluster) {
    checked += ", " + std::to_string(evidence.cluster->deployments.size()) + " deployments, "
               + std::to_string(evidence.cluster->pods.size()) + " pods";
  }
  const auto verdict = errors == 0 ? colour.green("verified") : colour.red("differences found");
  out << verdict << ": " << checked << "; " << errors << " errors, " << warnings << " warnings\n";
}

// What `apply -f service.yaml` recorded for each service, as the mesh step resolved it.
std::vector<verify::ImageRecord> recorded_images(const apply::MeshApplyResult& result)
{
  std::vector<verify::ImageRecord> images;
  for (const auto& service : result.mesh.services) {
    images.push_back({.service = service.name,
                      .session = service.session,
                      .image = service.image,
                      .digest = service.image_digest,
                      .measurement = service.measurement});
  }
  return images;
}

Result<verify::Approved> approved_by(const GeneratedMesh& generated,
                                     const VerifyOptions& options,
                                     bool with_cluster)
{
  verify::Approved approved{.sessions = generated.result.sessions,
                            .images = recorded_images(generated.result),
                            .production = options.apply.mode == model::EnclaveMode::production};
  auto record = cas::load_upload_record(options.apply.target_directory);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  approved.record = std::move(*record);
  if (with_cluster) {
    if (!generated.result.manifests_dir) {
      return fail(ErrorKind::internal, "the rendered manifests were not written");
    }
    std::map<std::string, std::string> digests;
    for (const auto& service : generated.result.mesh.services) {
      if (service.image_digest) {
        digests.emplace(chart::kubernetes_name(service.name), *service.image_digest);
      }
    }
    auto deployments = verify::approved_deployments(*generated.result.manifests_dir, digests);
    if (!deployments) {
      return forward_error(std::move(deployments.error()));
    }
    approved.deployments = std::move(*deployments);
  }
  return approved;
}

// A bundle replaces an earlier bundle as a whole, never a directory that holds something else.
Result<void> write_evidence(const std::filesystem::path& dir, const fs::FileTree& files)
{
  std::error_code error;
  if (std::filesystem::exists(dir, error) && !std::filesystem::is_empty(dir, error)
      && !std::filesystem::exists(dir / "SHA256SUMS", error)) {
    return fail(
        ErrorKind::usage,
        dir.string()
            + ": not empty and not an evidence bundle; name a new directory for --evidence");
  }
  return fs::replace_directory(dir, files);
}

Result<int> report(const verify::Evidence& evidence,
                   const std::vector<verify::Finding>& findings,
                   const GlobalOptions& global,
                   Services& services)
{
  if (global.format == OutputFormat::json) {
    services.out << verify::report_json(evidence, findings).dump(2) << '\n';
  } else if (!global.quiet || verify::count(findings, verify::Severity::error) > 0) {
    print_report(evidence, findings, palette_for(services.out, services.variables), services.out);
  }
  return verify::count(findings, verify::Severity::error) == 0 ? exit_code::ok : exit_code::changes;
}

Result<int> run_offline(VerifyOptions options, const GlobalOptions& global, Services& services)
{
  auto evidence = verify::load_evidence(options.offline_dir);
  if (!evidence) {
    return forward_error(std::move(evidence.error()));
  }
  auto mesh = load_mesh_manifest(options.apply, services, k_verify_purpose);
  if (!mesh) {
    return forward_error(std::move(mesh.error()));
  }
  // The chart's names depend on the release: the bundle's, unless another one is asked for.
  if (options.apply.release.empty() && evidence->cluster) {
    options.apply.release = evidence->cluster->release;
  }
  options.apply.output = MeshOutput::yaml;
  auto generated =
      generate_for_cas(*mesh, options.apply, std::nullopt, services, ImageFacts::descriptors);
  if (!generated) {
    return forward_error(std::move(generated.error()));
  }
  auto approved = approved_by(*generated, options, evidence->cluster.has_value());
  if (!approved) {
    return forward_error(std::move(approved.error()));
  }
  return report(*evidence, verify::check(*evidence, *approved), global, services);
}

Result<int> run_verify(VerifyOptions options, const GlobalOptions& global, Services& services)
{
  if (!options.offline_dir.empty()) {
    return run_offline(std::move(options), global, services);
  }
  auto mesh = load_mesh_manifest(options.apply, services, k_verify_purpose);
  if (!mesh) {
    return forward_error(std::move(mesh.error()));
  }
  if (manifest::cas_for_role(*mesh, "cas") == nullptr) {
    return fail(ErrorKind::usage,
                options.apply.file + ": the mesh names no CAS (cas:) whose sessions to verify");
  }
  options.apply.output = MeshOutput::yaml;
  // What was recorded is what was approved, whatever the local images are now.
  auto generated = generate_for_cas(
      *mesh, options.apply, "verifying against the CAS", services, ImageFacts::descriptors);
  if (!generated) {
    return forward_error(std::move(generated.error()));
  }
  auto approved = approved_by(*generated, options, options.checks_cluster());
  if (!approved) {
    return forward_error(std::move(approved.error()));
  }
  auto& connection = *generated->connection;
  verify::Evidence evidence;
  {
    std::vector<std::string> names;
    for (const auto& session : generated->result.sessions) {
      names.push_back(session.name);
    }
    cas::CasClient client(*connection.transport);
    auto state = verify::read_cas_state(client, names, approved->record, options.max_versions);
    if (!state) {
      return forward_error(std::move(state.error()));
    }
    evidence.cas = std::move(*state);
  }
  evidence.cas.address = connection.address.authority();
  evidence.cas.trust = cas::to_string(connection.trust);
  evidence.cas.key_hash = connection.pinned_key;
  if (auto config_file = cas_config_file(options.apply.cas, services); config_file) {
    if (auto config = cas::load_client_config(*config_file); config) {
      if (const auto found = config->cas_db.find(evidence.cas.address);
          found != config->cas_db.end()) {
        evidence.cas.certificate = found->second.chain;
      }
    }
  }
  evidence.images = recorded_images(generated->result);
  if (options.checks_cluster()) {
    verify::KubectlOptions kubectl{.namespace_name = options.k8s_namespace,
                                   .release = generated->result.chart_name};
    if (!options.apply.release.empty()) {
      kubectl.release = options.apply.release;
    }
    kubectl.kubectl = !options.kubectl.empty() ? options.kubectl
                                               : services.variables("KUBECTL").value_or("kubectl");
    if (!options.kubeconfig.empty()) {
      kubectl.kubeconfig = options.kubeconfig;
    }
    auto cluster = verify::read_cluster_state(services.processes, kubectl);
    if (!cluster) {
      return forward_error(std::move(cluster.error()), "reading the cluster");
    }
    evidence.cluster = std::move(*cluster);
  }
  const auto findings = verify::check(evidence, *approved);
  if (!options.evidence_dir.empty()) {
    if (auto written =
            write_evidence(options.evidence_dir, verify::evidence_files(evidence, findings));
        !written) {
      return forward_error(std::move(written.error()));
    }
  }
  return report(evidence, findings, global, services);
}

}  // namespace

Action add_verify_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto options = std::make_shared<VerifyOptions>();
  auto& apply = options->apply;
  auto* command = app.add_subcommand(
      "verify",
      "Check that the CAS holds exactly the policies the manifests produce, with an intact "
      "history, and that the cluster runs exactly the recorded images under them; lint the "
      "policies in force. Exit code 0: verified, 3: differences found, 1 or 2: could not verify "
      "(docs/verify.md)");
  // The images are what target/services records: verify neither pulls nor measures.
  add_mesh_file_options(
      *command,
      apply,
      "The policies as apply generated them, and the policy lint's findings: errors in production "
      "mode, warnings in debug mode",
      "Helm release name (as given to apply and helm install)");
  add_cas_options(*command, apply.cas, false);
  command->add_option("--kubeconfig",
                      options->kubeconfig,
                      "Check the cluster too, through kubectl with this kubeconfig");
  command->add_option("--namespace",
                      options->k8s_namespace,
                      "Check the cluster too: the Kubernetes namespace of the release");
  command->add_option("--kubectl",
                      options->kubectl,
                      "The kubectl program (default: $KUBECTL, else kubectl on the PATH)");
  command
      ->add_option(
          "--max-versions", options->max_versions, "Most versions read of each session's history")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  auto* evidence = command->add_option(
      "--evidence",
      options->evidence_dir,
      "Write an evidence bundle to this directory (replaced as a whole; no secret value is in it)");
  auto* offline = command->add_option(
      "--offline",
      options->offline_dir,
      "Check an evidence bundle again, without network access, against the manifests");
  offline->excludes(evidence);
  return [options, &global, &services]() -> Result<int> {
    return run_verify(*options, global, services);
  };
}

}  // namespace sconectl::cli
