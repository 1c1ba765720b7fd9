#include "sconectl/apply/apply_mesh.hpp"

#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/policy/generate.hpp"
#include "sconectl/util/file_tree.hpp"

#include <spdlog/spdlog.h>

namespace sconectl::apply {

namespace {

constexpr std::string_view k_secret_reference = "$$SCONE::";
// Explicit values shorter than this are too common as ordinary text to scan for.
constexpr std::size_t k_min_scanned_value = 6;

// The chart and the plain manifests must not carry what only CAS may hold. The generator never
// puts it there; this check keeps helm_extra_values (free-form) from doing so by accident.
Result<void> refuse_confidential_values(const fs::FileTree& files,
                                        const std::string& where,
                                        const model::ResolvedMesh& mesh)
{
  for (const auto& [path, content] : files) {
    if (content.find(k_secret_reference) != std::string::npos) {
      return fail(ErrorKind::manifest,
                  where + "/" + path + " would contain a $$SCONE:: secret reference; secrets reach "
                  "programs through their CAS policy only (check helm_extra_values)");
    }
    for (const auto& service : mesh.services) {
      for (const auto& secret : service.secrets) {
        for (const auto& value : {secret.value, secret.application_secret}) {
          if (value && value->size() >= k_min_scanned_value
              && content.find(*value) != std::string::npos) {
            return fail(ErrorKind::manifest,
                        where + "/" + path + " would contain the value of secret '" + secret.name
                            + "' of service '" + service.name
                            + "'; secrets reach programs through their CAS policy only (check "
                              "helm_extra_values)");
          }
        }
      }
    }
  }
  return {};
}

}  // namespace

std::filesystem::path session_file(const std::filesystem::path& target_dir, const std::string& name)
{
  return target_dir / "policies" / (name + ".yaml");
}

Result<MeshApplyResult> generate_mesh(const manifest::MeshManifest& manifest,
                                      const MeshApplyOptions& options)
{
  auto resolved = mesh::resolve_mesh(manifest,
                                     mesh::ResolveOptions{.target_dir = options.target_dir,
                                                          .pull = options.pull,
                                                          .measurer = options.measurer,
                                                          .images = options.images});
  if (!resolved) {
    return forward_error(std::move(resolved.error()));
  }
  auto sessions = policy::generate_sessions(*resolved, policy::PolicyOptions{.mode = options.mode});
  if (!sessions) {
    return forward_error(std::move(sessions.error()));
  }
  auto chart = chart::generate_chart(*resolved, chart::ChartOptions{.release = options.release});
  if (!chart) {
    return forward_error(std::move(chart.error()));
  }
  const auto chart_dir = options.target_dir / "helm";
  const auto manifests_dir = options.target_dir / "manifests";
  if (auto clean = refuse_confidential_values(chart->files, chart_dir.string(), *resolved);
      !clean) {
    return forward_error(std::move(clean.error()));
  }
  fs::FileTree manifests;
  if (options.write_manifests) {
    manifests = chart::render_manifests(*chart, chart->name);
    if (auto clean = refuse_confidential_values(manifests, manifests_dir.string(), *resolved);
        !clean) {
      return forward_error(std::move(clean.error()));
    }
  }

  MeshApplyResult result{.mesh = std::move(*resolved),
                         .sessions = std::move(*sessions),
                         .session_files = {},
                         .chart_name = chart->name,
                         .chart_dir = chart_dir,
                         .manifests_dir = std::nullopt};
  fs::FileTree policies;
  for (const auto& session : result.sessions) {
    policies[session.name + ".yaml"] = model::to_yaml(session.document);
    result.session_files.push_back(session_file(options.target_dir, session.name));
  }
  if (auto written = fs::replace_directory(
          options.target_dir / "policies", policies, fs::FileMode::private_to_owner);
      !written) {
    return forward_error(std::move(written.error()));
  }
  if (auto written = fs::replace_directory(chart_dir, chart->files); !written) {
    return forward_error(std::move(written.error()));
  }
  if (options.write_manifests) {
    if (auto written = fs::replace_directory(manifests_dir, manifests); !written) {
      return forward_error(std::move(written.error()));
    }
    result.manifests_dir = manifests_dir;
  }
  spdlog::debug("{} sessions written to {}",
                result.sessions.size(),
                (options.target_dir / "policies").string());
  return result;
}

Result<bool> wants_upload(const manifest::MeshManifest& mesh, bool dry_run)
{
  using manifest::PolicyHandling;
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  const auto mode = cas && cas->mode ? *cas->mode : PolicyHandling::upload;
  if (mode != PolicyHandling::upload && mode != PolicyHandling::no_upload && !dry_run) {
    return fail(ErrorKind::usage,
                "cas mode " + std::string(manifest::to_string(mode))
                    + " is not supported by this sconectl yet; supported modes: Upload, NoUpload "
                      "(or --dry-run, which uploads nothing)");
  }
  return !dry_run && mode == PolicyHandling::upload && cas != nullptr;
}

Result<cas::UploadReport> upload_policies(cas::CasConnection& connection,
                                          std::size_t concurrency,
                                          const std::vector<model::Session>& sessions,
                                          const std::filesystem::path& target_dir,
                                          const cas::CurrentVersions* known)
{
  auto record = cas::load_upload_record(target_dir);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  if (record->cas != connection.address.authority()) {
    *record = cas::UploadRecord{.cas = connection.address.authority()};  // another CAS: new chains
  }
  // `session get` and friends find this CAS, with its pin, from the record.
  record->cas_key = connection.pinned_key;
  cas::CasClient client(*connection.transport);
  auto report = cas::upload_sessions(
      client,
      sessions,
      connection.own_key_hash,
      *record,
      cas::UploadConcurrency{.requests = concurrency,
                             .another_transport = connection.another_transport},
      known);
  // What was accepted before a failure stays recorded.
  if (auto saved = cas::save_upload_record(target_dir, *record); !saved) {
    return forward_error(std::move(saved.error()));
  }
  spdlog::debug("{} connection(s) to the CAS for this apply",
                connection.transport->connections_opened());
  return report;
}

}  // namespace sconectl::apply
