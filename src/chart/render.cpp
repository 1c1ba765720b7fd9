#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/util/json_member.hpp"
#include "sconectl/yaml/convert.hpp"

#include <algorithm>
#include <vector>

namespace sconectl::chart {

namespace {

using Json = nlohmann::ordered_json;
using json::member;

// Go templates' `with`: empty maps, lists, strings, zero and false count as absent.
bool is_set(const Json& value)
{
  if (value.is_null()) {
    return false;
  }
  if (value.is_object() || value.is_array() || value.is_string()) {
    return !value.empty() && !(value.is_string() && value.get<std::string>().empty());
  }
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  if (value.is_number()) {
    return value != 0;
  }
  return true;
}

// The same names and labels as the chart's _helpers.tpl.
std::string full_name(const std::string& release, const std::string& name)
{
  auto text = (release + "-" + name).substr(0, 63);
  while (!text.empty() && text.back() == '-') {
    text.pop_back();
  }
  return text;
}

Json selector_labels(const std::string& release, const std::string& name)
{
  return Json{{"app.kubernetes.io/name", name}, {"app.kubernetes.io/instance", release}};
}

Json labels(const std::string& chart, const std::string& release, const std::string& name)
{
  auto result = selector_labels(release, name);
  result["app.kubernetes.io/part-of"] = chart;
  result["app.kubernetes.io/managed-by"] = "sconectl";
  return result;
}

void set_if(Json& object, const char* key, const Json& value)
{
  if (is_set(value)) {
    object[key] = value;
  }
}

Json deployment(const std::string& chart,
                const std::string& release,
                const std::string& name,
                const Json& service)
{
  const auto& scone = member(service, "scone");
  Json container{{"name", name},
                 {"image", member(service, "image")},
                 {"imagePullPolicy", member(service, "imagePullPolicy")},
                 {"env",
                  {{{"name", "SCONE_CONFIG_ID"}, {"value", member(scone, "configId")}},
                   {{"name", "SCONE_CAS_ADDR"}, {"value", member(scone, "casAddress")}},
                   {{"name", "SCONE_LAS_ADDR"},
                    {"valueFrom", {{"fieldRef", {{"fieldPath", "status.hostIP"}}}}}},
                   {{"name", "SCONE_LOG"}, {"value", member(scone, "log")}}}},
                 {"ports",
                  {{{"name", "api"},
                    {"containerPort", member(member(service, "service"), "port")},
                    {"protocol", "TCP"}}}}};
  if (const auto& key = member(scone, "casKey"); is_set(key)) {
    container["env"].push_back({{"name", "SCONE_CAS_KEY"}, {"value", key}});
  }
  if (const auto& secret = member(scone, "accessTokenSecret"); is_set(secret)) {
    container["env"].push_back(
        {{"name", "SCONE_SERVICE_ACCESS_TOKEN"},
         {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", "token"}}}}}});
  }
  const auto& injection = member(service, "injectionVolumes");
  if (is_set(injection)) {
    Json mounts = Json::array();
    for (const auto& volume : injection) {
      mounts.push_back(
          {{"name", member(volume, "name")}, {"mountPath", member(volume, "mountPath")}});
    }
    container["volumeMounts"] = std::move(mounts);
  }
  set_if(container, "resources", member(service, "resources"));

  Json pod_spec = Json::object();
  set_if(pod_spec, "imagePullSecrets", member(service, "imagePullSecrets"));
  pod_spec["containers"] = Json::array({std::move(container)});
  set_if(pod_spec, "nodeSelector", member(service, "nodeSelector"));
  set_if(pod_spec, "affinity", member(service, "affinity"));
  set_if(pod_spec, "tolerations", member(service, "tolerations"));
  if (is_set(injection)) {
    Json volumes = Json::array();
    for (const auto& volume : injection) {
      volumes.push_back({{"name", member(volume, "name")}, {"emptyDir", {{"medium", "Memory"}}}});
    }
    pod_spec["volumes"] = std::move(volumes);
  }
  Json pod_metadata = Json::object();
  set_if(pod_metadata, "annotations", member(service, "podAnnotations"));
  auto pod_labels = selector_labels(release, name);
  if (const auto& extra = member(service, "podLabels"); extra.is_object()) {
    for (const auto& [key, value] : extra.items()) {
      pod_labels[key] = value;
    }
  }
  pod_metadata["labels"] = std::move(pod_labels);

  return Json{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", full_name(release, name)}, {"labels", labels(chart, release, name)}}},
      {"spec",
       {{"replicas", member(service, "replicaCount")},
        {"selector", {{"matchLabels", selector_labels(release, name)}}},
        {"template", {{"metadata", std::move(pod_metadata)}, {"spec", std::move(pod_spec)}}}}}};
}

Json kubernetes_service(const std::string& chart,
                        const std::string& release,
                        const std::string& name,
                        const Json& service)
{
  const auto& settings = member(service, "service");
  return Json{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", full_name(release, name)}, {"labels", labels(chart, release, name)}}},
      {"spec",
       {{"type", member(settings, "type")},
        {"selector", selector_labels(release, name)},
        {"ports",
         {{{"name", "api"},
           {"port", member(settings, "port")},
           {"targetPort", "api"},
           {"protocol", "TCP"}}}}}}};
}

}  // namespace

fs::FileTree render_manifests(const Chart& chart, const std::string& release)
{
  fs::FileTree files;
  const auto& services = member(chart.values, "services");
  if (!services.is_object()) {
    return files;
  }
  // Helm ranges over a map in key order.
  std::vector<std::string> names;
  for (const auto& [name, _] : services.items()) {
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const auto& service = services.at(name);
    if (!is_set(member(service, "enabled"))) {
      continue;
    }
    files[name + "-deployment.yaml"] =
        yaml::to_yaml(deployment(chart.name, release, name, service));
    if (is_set(member(member(service, "service"), "enabled"))) {
      files[name + "-service.yaml"] =
          yaml::to_yaml(kubernetes_service(chart.name, release, name, service));
    }
  }
  return files;
}

}  // namespace sconectl::chart
