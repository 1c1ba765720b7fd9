#pragma once

#include "sconectl/cas/upload.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/file_tree.hpp"
#include "sconectl/verify/cas_checks.hpp"
#include "sconectl/verify/cluster_checks.hpp"
#include "sconectl/verify/finding.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// `sconectl verify`: does the deployment run exactly what the manifests approve, under the
// policies they approve? The same checks run on what was just read from the CAS and the cluster
// (online) and on an evidence bundle written earlier (offline), so a bundle can be checked again
// without network access.
namespace sconectl::verify {

// A service's image as `apply -f service.yaml` recorded it.
struct ImageRecord {
  std::string service;
  std::string session;
  std::string image;
  std::optional<std::string> digest;  // "sha256:..."
  std::string measurement;
};

// What verify looked at. Written to a bundle with every stored session redacted.
struct Evidence {
  CasState cas;
  std::vector<ImageRecord> images;
  std::optional<ClusterState> cluster;  // absent when no cluster was checked
};

// What the manifests approve, generated from them as `apply --dry-run` does.
struct Approved {
  std::vector<model::Session> sessions;
  cas::UploadRecord record;  // target/cas/sessions.json; ignored when it is another CAS's
  std::vector<ImageRecord> images;
  std::vector<ApprovedDeployment> deployments;
  bool production = true;  // --mode production: the policy lint's findings are errors
};

// Every check: the CAS's sessions and their histories, the production lint, the recorded images,
// the cluster when it was read. Sorted (sort_findings).
[[nodiscard]] std::vector<Finding> check(const Evidence& evidence, const Approved& approved);

inline constexpr const char* k_report_format = "sconectl.verify/v1";

// The report (docs/verify.md, "JSON"): format, verdict ("verified" or "differences"), CAS,
// release, counts and findings.
[[nodiscard]] nlohmann::ordered_json report_json(const Evidence& evidence,
                                                 const std::vector<Finding>& findings);

// The evidence bundle's files (docs/verify.md, "Evidence bundle"): summary.json, cas.json,
// sessions/<name>.json (each version's hash, predecessor, creator and redacted document),
// images.json, cluster.json when a cluster was read, and SHA256SUMS over all of them (the format
// `sha256sum -c` reads). Deterministic: the same evidence gives the same bytes.
[[nodiscard]] fs::FileTree evidence_files(const Evidence& evidence,
                                          const std::vector<Finding>& findings);

// Reads a bundle back. Refuses (kind manifest) a bundle whose files do not match its SHA256SUMS,
// or that holds a file SHA256SUMS does not list, naming the file.
[[nodiscard]] Result<Evidence> load_evidence(const std::filesystem::path& dir);

}  // namespace sconectl::verify
