#include "sconectl/apply/upload_mesh.hpp"

#include "sconectl/cas/client.hpp"

#include <algorithm>
#include <set>

namespace sconectl::apply {

Result<MeshPlan> plan_upload(cas::CasConnection& connection,
                             const MeshApplyResult& generated,
                             const std::filesystem::path& target_dir,
                             const diff::CompareOptions& compare)
{
  auto record = cas::load_upload_record(target_dir);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  ServiceImages images;
  for (const auto& service : generated.mesh.services) {
    images.emplace(service.session + "/" + service.name,
                   service.image + (service.image_digest ? "@" + *service.image_digest : ""));
  }
  cas::CasClient client(*connection.transport);
  return plan_mesh(client,
                   generated.sessions,
                   connection.own_key_hash,
                   *record,
                   connection.address.authority(),
                   images,
                   compare);
}

namespace {

void warn(const MeshApplyObserver& observer, const std::string& line)
{
  if (observer.warning) {
    observer.warning(line);
  }
}

// A plain apply replaces someone else's version only on request: it would otherwise build on top
// of a change nobody here has seen (kubectl apply's field conflicts, likewise).
Result<void> refuse_changes_elsewhere(const MeshPlan& plan, const MeshUploadOptions& upload)
{
  std::vector<const SessionPlan*> changed_elsewhere;
  for (const auto& session : plan.sessions) {
    if (session.changed_elsewhere()) {
      changed_elsewhere.push_back(&session);
    }
  }
  if (changed_elsewhere.empty() || upload.force_conflicts) {
    return {};
  }
  std::string message =
      "sessions changed on the CAS since the last apply from this target directory; "
      "nothing was uploaded:";
  for (const auto* session : changed_elsewhere) {
    message += "\n  " + session->name + ": recorded " + *session->recorded_hash + ", the CAS has "
               + *session->current_hash;
  }
  message +=
      "\nSee the change with `sconectl diff -f <mesh>` (or `sconectl session get NAME --hash "
      "HASH`); to replace it with what these manifests produce, apply with --force-conflicts";
  return fail(ErrorKind::conflict, message);
}

Result<void> match_reviewed_plan(const MeshPlan& plan, const std::filesystem::path& plan_file)
{
  auto reviewed = load_reviewed_plan(plan_file);
  if (!reviewed) {
    return forward_error(std::move(reviewed.error()));
  }
  const auto problems = plan_mismatches(*reviewed, plan);
  if (problems.empty()) {
    return {};
  }
  std::string message = plan_file.string()
                        + ": the CAS or the manifests changed since this plan was made; "
                          "nothing was uploaded. Run diff again and review the new plan:";
  for (const auto& problem : problems) {
    message += "\n  " + problem;
  }
  return fail(ErrorKind::conflict, message);
}

// Before an upload: with a reviewed plan, refuses unless the CAS and the manifests still give
// exactly that plan; without one, refuses to replace changes made elsewhere and reports the risk
// lines. In production mode, regenerating a secret or weakening attestation needs its flag either
// way.
Result<MeshPlan> check_before_upload(cas::CasConnection& connection,
                                     const MeshApplyResult& generated,
                                     const MeshApplyOptions& options,
                                     const MeshUploadOptions& upload,
                                     const MeshApplyObserver& observer)
{
  auto plan = plan_upload(connection, generated, options.target_dir);
  if (!plan) {
    return forward_error(std::move(plan.error()));
  }
  if (!upload.plan_file.empty()) {
    TRY(match_reviewed_plan(*plan, upload.plan_file));
  } else {
    TRY(refuse_changes_elsewhere(*plan, upload));
    for (const auto& line : risk_lines(*plan)) {
      warn(observer, line);
    }
  }
  if (options.mode == model::EnclaveMode::production) {
    TRY(check_consent(*plan, upload.consent));
  }
  return plan;
}

}  // namespace

Result<MeshApplyOutcome> apply_mesh(const manifest::MeshManifest& mesh,
                                    const MeshApplyOptions& options,
                                    bool dry_run,
                                    const MeshUploadOptions& upload,
                                    const CasConnector& connect,
                                    const MeshApplyObserver& observer)
{
  const auto wants = wants_upload(mesh, dry_run);
  if (!wants) {
    return forward_error(std::move(wants.error()));
  }
  if (!upload.plan_file.empty() && !*wants) {
    return fail(ErrorKind::usage,
                "--plan " + upload.plan_file.string()
                    + ": this apply uploads nothing (--dry-run or a NoUpload mesh)");
  }
  TRY(check_release(options.release));
  std::optional<cas::CasConnection> connection;
  if (*wants) {
    auto connected = connect();
    if (!connected) {
      return forward_error(std::move(connected.error()), "uploading the policies");
    }
    connection = std::move(*connected);
  }
  auto generated = generate_mesh(mesh, options);
  if (!generated) {
    return forward_error(std::move(generated.error()));
  }
  if (observer.diagnostics) {
    observer.diagnostics(generated->mesh.warnings);
  }
  MeshApplyOutcome outcome{.result = std::move(*generated), .uploads = std::nullopt};
  if (!connection) {
    return outcome;
  }
  auto plan = check_before_upload(*connection, outcome.result, options, upload, observer);
  if (!plan) {
    return forward_error(std::move(plan.error()));
  }
  // Sessions changed by someone else were named with the risk lines already.
  std::set<std::string> reported;
  for (const auto& session : plan->sessions) {
    if (upload.plan_file.empty() && session.changed_elsewhere()) {
      reported.insert(session.name);
    }
  }
  // The upload starts from the versions the plan read (and checked), not from a new read.
  auto uploaded = upload_policies(*connection,
                                  upload.concurrency,
                                  outcome.result.sessions,
                                  options.target_dir,
                                  &plan->current_versions);
  if (!uploaded) {
    return forward_error(std::move(uploaded.error()));
  }
  for (const auto& line : uploaded->warnings) {
    const auto already = std::any_of(reported.begin(), reported.end(), [&](const auto& name) {
      return line.starts_with("session '" + name + "'");
    });
    if (!already) {
      warn(observer, line);
    }
  }
  outcome.uploads = std::move(*uploaded);
  return outcome;
}

}  // namespace sconectl::apply
