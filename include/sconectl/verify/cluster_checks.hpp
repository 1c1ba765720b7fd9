#pragma once

#include "sconectl/util/error.hpp"
#include "sconectl/util/process.hpp"
#include "sconectl/verify/finding.hpp"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

// The cluster side of `sconectl verify`: the Deployments and pods of a Helm release as the
// Kubernetes API shows them, reduced to what the checks need (and nothing secret), and the checks.
namespace sconectl::verify {

// A container as a Deployment or pod specifies it. Only the SCONE_* settings the chart writes keep
// their values; any other variable is kept by name only, since someone may have put a secret there.
struct ContainerSpec {
  std::string name;
  std::string image;
  std::map<std::string, std::string> settings;  // SCONE_CONFIG_ID, SCONE_CAS_ADDR, ...
  std::vector<std::string> other_variables;     // names, sorted
  bool env_from = false;                        // takes variables from a ConfigMap or Secret
};

struct DeploymentState {
  std::string name;
  std::string service;  // label app.kubernetes.io/name
  std::vector<ContainerSpec> containers;
};

struct ContainerStatus {
  std::string name;
  std::string image_id;  // the image the node runs, "...@sha256:..."
  bool ready = false;
  int restarts = 0;
};

struct PodState {
  std::string name;
  std::string service;  // label app.kubernetes.io/name
  std::string phase;
  bool ready = false;
  // Being deleted (a rollout replaced it): not expected to be Ready.
  bool terminating = false;
  std::vector<ContainerStatus> containers;
  // The lines of its log (and of its previous run's) that report a failed attestation.
  std::vector<std::string> attestation_log;
};

struct ClusterState {
  std::string namespace_name;
  std::string release;
  std::vector<DeploymentState> deployments;  // by name
  std::vector<PodState> pods;                // by name
};

[[nodiscard]] nlohmann::ordered_json to_json(const ClusterState& state);
[[nodiscard]] Result<ClusterState> cluster_state_from_json(const nlohmann::json& json);

// How to reach the cluster: kubectl, so every kubeconfig and its auth plugins work as they do
// for the user.
struct KubectlOptions {
  std::string kubectl = "kubectl";
  std::optional<std::filesystem::path> kubeconfig;
  std::string namespace_name;  // empty: the kubeconfig context's namespace
  std::string release;
};

// Reads the release's Deployments and pods (label app.kubernetes.io/instance=<release>) with one
// `kubectl get -o json`, then the logs of pods that are not ready or have restarted.
[[nodiscard]] Result<ClusterState> read_cluster_state(ProcessRunner& runner,
                                                      const KubectlOptions& options);

// What the manifests approve for one service's Deployment: the container as the chart renders
// it, and the digest recorded for its image.
struct ApprovedDeployment {
  std::string name;     // the Deployment's name
  std::string service;  // label app.kubernetes.io/name
  ContainerSpec container;
  std::optional<std::string> image_digest;  // "sha256:..."
};

// Reads the Deployments of a rendered chart (target/manifests, as `apply -o yaml` writes them).
[[nodiscard]] Result<std::vector<ApprovedDeployment>> approved_deployments(
    const std::filesystem::path& manifests_dir,
    const std::map<std::string, std::string>& digests_by_service);

// Each approved Deployment exists with the approved image and SCONE settings and no other
// variables; each of its pods runs the recorded image digest and is ready; a pod that is not,
// with its attestation log lines and the measurement the CAS refused.
[[nodiscard]] std::vector<Finding> check_cluster(const ClusterState& state,
                                                 const std::vector<ApprovedDeployment>& approved);

}  // namespace sconectl::verify
