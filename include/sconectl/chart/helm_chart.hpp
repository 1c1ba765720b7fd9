#pragma once

#include "sconectl/model/resolved_mesh.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/file_tree.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace sconectl::chart {

// Defaults a mesh `env` entry can override (documented in docs/mesh.md).
inline constexpr int k_default_service_port = 8080;
inline constexpr const char* k_default_scone_log = "error";
inline constexpr const char* k_sgx_resource = "sgx.k8s.io/sgx";
inline constexpr const char* k_las_node_label = "las.scontain.com/ok";

struct ChartOptions {
  // The Helm release name the user will install with; names the chart too. Empty: the namespace.
  std::string release;
};

// The Kubernetes Secret (key `token`) from which the pod of the simulated service `service_key`
// (its key in .Values.services) takes SCONE_SERVICE_ACCESS_TOKEN. Not part of the chart.
[[nodiscard]] std::string access_token_secret_name(const std::string& chart,
                                                   const std::string& service_key);

struct Chart {
  std::string name;
  nlohmann::ordered_json values;  // what values.yaml holds
  fs::FileTree files;             // Chart.yaml, values.yaml, values.schema.json, templates/...
};

// The umbrella chart of a mesh: one Deployment and one Service per mesh service, the pods
// configured to fetch their program's environment from CAS (SCONE_CONFIG_ID, SCONE_CAS_ADDR,
// SCONE_LAS_ADDR). Holds no program environment, no secret and no $$SCONE:: reference.
// Deterministic: the same resolved mesh gives the same bytes.
[[nodiscard]] Result<Chart> generate_chart(const model::ResolvedMesh& mesh,
                                           const ChartOptions& options);

// What `helm template <release> <chart>` renders from the chart's default values, built without
// Helm: <service>-deployment.yaml and <service>-service.yaml files of plain Kubernetes objects.
// Labels name sconectl instead of Helm as the manager and carry no helm.sh/chart label.
[[nodiscard]] fs::FileTree render_manifests(const Chart& chart, const std::string& release);

// A Kubernetes-safe (DNS-1123 label) form of a mesh service name: lower case, '_', '.' and '~'
// become '-'.
[[nodiscard]] std::string kubernetes_name(const std::string& service_name);

// Empty when `release` is a valid Helm release name, else the reason.
[[nodiscard]] std::string check_release_name(const std::string& release);

}  // namespace sconectl::chart
