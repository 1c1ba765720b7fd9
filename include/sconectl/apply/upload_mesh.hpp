#pragma once

#include "sconectl/apply/apply_mesh.hpp"
#include "sconectl/apply/plan_mesh.hpp"
#include "sconectl/cas/connect.hpp"
#include "sconectl/cas/upload.hpp"
#include "sconectl/diff/session_diff.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/util/diagnostic.hpp"
#include "sconectl/util/error.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// `apply -f mesh.yaml` from first to last step as one library call: connect to the mesh's CAS,
// generate the policies and the chart, work out the plan, check it (a reviewed plan, sessions
// changed elsewhere, consent in production), and upload.
namespace sconectl::apply {

// What uploading `generated`'s sessions over `connection` would do (plan_mesh), against the upload
// record in `target_dir`; each service's measurement change names its image.
[[nodiscard]] Result<MeshPlan> plan_upload(cas::CasConnection& connection,
                                           const MeshApplyResult& generated,
                                           const std::filesystem::path& target_dir,
                                           const diff::CompareOptions& compare = {});

struct MeshUploadOptions {
  std::size_t concurrency = 16;
  // A reviewed plan (`diff --out`): the upload happens only when the CAS and the manifests still
  // give exactly that plan. Empty: none.
  std::filesystem::path plan_file;
  // Replace sessions someone else changed on the CAS since the last apply from this target.
  bool force_conflicts = false;
  RiskConsent consent;  // what --mode production needs a flag for
};

// Where apply_mesh reports as it goes, so that a warning comes before the step it warns of.
struct MeshApplyObserver {
  std::function<void(const std::vector<Diagnostic>&)> diagnostics;  // the mesh's, once generated
  std::function<void(const std::string&)> warning;                  // risk lines, upload warnings
};

struct MeshApplyOutcome {
  MeshApplyResult result;
  std::optional<cas::UploadReport> uploads;  // none: nothing was to be uploaded
};

using CasConnector = std::function<Result<cas::CasConnection>()>;

// Whether the mesh uploads (wants_upload with `dry_run`); when it does, connects first (so a trust
// problem is reported before anything is generated), then generates as generate_mesh does, plans
// the upload and checks it:
// - with upload.plan_file, refuses (kind conflict) unless the plan now is exactly the reviewed one;
// - without, refuses (kind conflict) to replace a session changed on the CAS since the last apply
//   unless upload.force_conflicts, and reports the plan's risk lines as warnings;
// - in production mode, check_consent.
// Then uploads from the versions the plan read (upload_policies). A plan file on an apply that
// uploads nothing is a usage error.
[[nodiscard]] Result<MeshApplyOutcome> apply_mesh(const manifest::MeshManifest& mesh,
                                                  const MeshApplyOptions& options,
                                                  bool dry_run,
                                                  const MeshUploadOptions& upload,
                                                  const CasConnector& connect,
                                                  const MeshApplyObserver& observer = {});

}  // namespace sconectl::apply
