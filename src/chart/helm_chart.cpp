#include "sconectl/chart/helm_chart.hpp"

#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/position.hpp"
#include "sconectl/yaml/convert.hpp"
#include "templates.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>

namespace sconectl::chart {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t k_max_release_length = 53;

bool is_dns_label(const std::string& text, std::size_t max_length)
{
  if (text.empty() || text.size() > max_length) {
    return false;
  }
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  return std::all_of(text.begin(), text.end(), allowed) && text.front() != '-'
         && text.back() != '-';
}

// Where pods attest. A SCONE runtime gets the cas_url's host (its enclave port is implied); the
// simulation runtime gets the cas_url as written, because the local CAS answers attestations on
// its API port, and the CAS key it must pin.
struct CasEndpoint {
  std::string host;
  std::string url;
  std::optional<std::string> key;
  std::string source;
  manifest::SourcePosition at;
};

CasEndpoint cas_endpoint(const manifest::MeshManifest& mesh)
{
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  if (cas == nullptr) {
    return CasEndpoint{.source = mesh.source};
  }
  const auto& url = cas->cas_url;
  const auto host =
      url.starts_with("[") ? url.substr(0, url.find(']') + 1) : url.substr(0, url.find(':'));
  std::optional<std::string> key;
  if (cas->cas_key && !cas->cas_key->empty()) {
    key = cas->cas_key;
  }
  return CasEndpoint{
      .host = host, .url = url, .key = key, .source = mesh.source, .at = cas->at.of("cas_key")};
}

// Values maps merge key by key; anything else is replaced. This is how Helm combines values files.
void merge_into(Json& target, const Json& extra)
{
  if (!target.is_object() || !extra.is_object()) {
    target = extra;
    return;
  }
  for (const auto& [key, value] : extra.items()) {
    if (target.contains(key)) {
      merge_into(target[key], value);
    } else {
      target[key] = value;
    }
  }
}

// helm_extra_values as the manifest reader left it: a mapping (given as one or as YAML text), or
// null when absent.
Json extra_values(const nlohmann::json& given)
{
  return given.is_object() ? Json::parse(given.dump()) : Json::object();
}

std::string setting(const model::ResolvedService& service,
                    const std::string& name,
                    std::string fallback)
{
  const auto found = service.settings.find(name);
  return found == service.settings.end() ? std::move(fallback) : found->second;
}

Result<int> service_port(const model::ResolvedService& service)
{
  const auto text = setting(service, "APP_SERVICE_PORT", std::to_string(k_default_service_port));
  int port = 0;
  const bool digits =
      !text.empty() && text.size() <= 5
      && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    port = std::stoi(text);
  }
  if (port < 1 || port > 65535) {
    return fail(ErrorKind::manifest,
                "env APP_SERVICE_PORT of service '" + service.name + "' is '" + text
                    + "'; expected a port number from 1 to 65535");
  }
  return port;
}

Json pull_secrets(const model::ResolvedService& service)
{
  Json list = Json::array();
  const auto names = setting(service, "imagePullSecrets", "");
  std::size_t start = 0;
  while (start <= names.size()) {
    auto end = names.find(',', start);
    if (end == std::string::npos) {
      end = names.size();
    }
    auto name = names.substr(start, end - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) {
      list.push_back(Json{{"name", name}});
    }
    start = end + 1;
  }
  return list;
}

bool names_a_digest(const std::string& image)
{
  const auto reference = manifest::parse_image_reference(image);
  return reference && reference->digest;
}

std::string image_of(const model::ResolvedService& service)
{
  if (service.image_digest && !names_a_digest(service.image)) {
    return service.image + "@" + *service.image_digest;
  }
  return service.image;
}

// The directories the simulation runtime writes injection files into, each a memory-backed
// emptyDir in the pod, so the files never touch the node's disk.
Json injection_volumes(const model::ResolvedService& service)
{
  std::vector<std::string> dirs;
  for (const auto& file : service.injection_files) {
    const auto slash = file.path.rfind('/');
    auto dir = slash == 0 || slash == std::string::npos ? "/" : file.path.substr(0, slash);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
      dirs.push_back(std::move(dir));
    }
  }
  std::sort(dirs.begin(), dirs.end());
  Json volumes = Json::array();
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    volumes.push_back(Json{{"name", "injection-" + std::to_string(i)}, {"mountPath", dirs[i]}});
  }
  return volumes;
}

Result<Json> sim_service_values(const model::ResolvedService& service, const CasEndpoint& cas)
{
  if (!cas.key) {
    return fail(Error{
        .kind = ErrorKind::manifest,
        .message =
            "service '" + service.name + "' runs the simulation runtime, which needs the CAS key",
        .diagnostics = {Diagnostic{.severity = Severity::error,
                                   .file = cas.source,
                                   .line = cas.at.line,
                                   .column = cas.at.column,
                                   .path = "cas[].cas_key",
                                   .message = "set cas_key to the key hash of the CAS (printed "
                                              "by `sconectl cas serve`): the runtime talks only "
                                              "to the CAS whose key it is given"}}});
  }
  return Json{{"casAddress", cas.url}, {"casKey", *cas.key}, {"runtime", "sim"}};
}

Result<Json> service_values(const model::ResolvedService& service, const CasEndpoint& cas)
{
  auto port = service_port(service);
  if (!port) {
    return forward_error(std::move(port.error()));
  }
  const bool pinned = service.image_digest.has_value() || names_a_digest(service.image);
  Json values{{"enabled", true},
              {"meshService", service.name},
              {"replicaCount", 1},
              {"image", image_of(service)},
              {"imagePullPolicy", pinned ? "IfNotPresent" : "Always"},
              {"imagePullSecrets", pull_secrets(service)},
              {"scone",
               {{"configId", service.session + "/" + service.name},
                {"casAddress", cas.host},
                {"log", setting(service, "SCONE_LOG", k_default_scone_log)}}},
              {"service", {{"enabled", true}, {"type", "ClusterIP"}, {"port", *port}}},
              {"resources", {{"limits", {{k_sgx_resource, 1}}}}},
              {"nodeSelector", {{k_las_node_label, "true"}}},
              {"affinity", Json::object()},
              {"tolerations", Json::array()},
              {"podAnnotations", Json::object()},
              {"podLabels", Json::object()}};
  if (service.simulation_runtime) {
    auto sim = sim_service_values(service, cas);
    if (!sim) {
      return forward_error(std::move(sim.error()));
    }
    merge_into(values["scone"], *sim);
    // No SGX device and no LAS: the pod runs on any node.
    values["resources"] = Json::object();
    values["nodeSelector"] = Json::object();
    values["injectionVolumes"] = injection_volumes(service);
  }
  merge_into(values, extra_values(service.helm_extra_values));
  return values;
}

Json values_schema()
{
  const Json string{{"type", "string"}};
  const Json string_map{{"type", "object"}, {"additionalProperties", string}};
  Json service{
      {"type", "object"},
      {"required", {"enabled", "replicaCount", "image", "imagePullPolicy", "scone", "service"}},
      {"properties",
       {{"enabled", {{"type", "boolean"}}},
        {"meshService", string},
        {"replicaCount", {{"type", "integer"}, {"minimum", 0}}},
        {"image", {{"type", "string"}, {"minLength", 1}}},
        {"imagePullPolicy", {{"enum", {"Always", "IfNotPresent", "Never"}}}},
        {"imagePullSecrets",
         {{"type", "array"},
          {"items",
           {{"type", "object"}, {"required", {"name"}}, {"properties", {{"name", string}}}}}}},
        {"scone",
         {{"type", "object"},
          {"required", {"configId", "casAddress", "log"}},
          {"properties",
           {{"configId", string},
            {"casAddress", string},
            {"casKey", string},
            {"runtime", {{"enum", {"sim"}}}},
            {"accessTokenSecret", string},
            {"log", string}}}}},
        {"injectionVolumes",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"required", {"name", "mountPath"}},
            {"properties", {{"name", string}, {"mountPath", string}}}}}}},
        {"service",
         {{"type", "object"},
          {"required", {"enabled", "type", "port"}},
          {"properties",
           {{"enabled", {{"type", "boolean"}}},
            {"type", {{"enum", {"ClusterIP", "NodePort", "LoadBalancer"}}}},
            {"port", {{"type", "integer"}, {"minimum", 1}, {"maximum", 65535}}}}}}},
        {"resources", {{"type", "object"}}},
        {"nodeSelector", string_map},
        {"affinity", {{"type", "object"}}},
        {"tolerations", {{"type", "array"}}},
        {"podAnnotations", string_map},
        {"podLabels", string_map}}}};
  return Json{
      {"$schema", "http://json-schema.org/draft-07/schema#"},
      {"title", "Values of a chart generated by sconectl"},
      {"type", "object"},
      {"required", {"mesh", "services"}},
      {"properties",
       {{"mesh",
         {{"type", "object"},
          {"required", {"namespace", "casAddress"}},
          {"properties", {{"namespace", string}, {"casAddress", string}}}}},
        {"services",
         {{"type", "object"}, {"additionalProperties", {{"$ref", "#/definitions/service"}}}}}}},
      {"definitions", {{"service", std::move(service)}}}};
}

// The mesh file's name for a comment: without directories (they vary between runs) and without
// anything that could end the comment line.
std::string source_name(const std::string& source)
{
  auto name = std::filesystem::path(source).filename().string();
  std::replace_if(
      name.begin(), name.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return name;
}

}  // namespace

std::string kubernetes_name(const std::string& service_name)
{
  std::string name;
  for (const char c : service_name) {
    const auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += (std::isalnum(static_cast<unsigned char>(lower)) != 0) ? lower : '-';
  }
  const auto first = name.find_first_not_of('-');
  if (first == std::string::npos) {
    return "";
  }
  name.erase(0, first);
  name.erase(name.find_last_not_of('-') + 1);
  return name;
}

std::string check_release_name(const std::string& release)
{
  if (is_dns_label(release, k_max_release_length)) {
    return "";
  }
  return "expected at most 53 lower-case letters, digits and '-', starting and ending with a "
         "letter or digit";
}

std::string access_token_secret_name(const std::string& chart, const std::string& service_key)
{
  return chart + "-" + service_key + "-sconectl-access";
}

Result<Chart> generate_chart(const model::ResolvedMesh& mesh, const ChartOptions& options)
{
  const auto& namespace_name = mesh.manifest.policy.namespace_name;
  std::string name = options.release.empty() ? kubernetes_name(namespace_name) : options.release;
  if (name.size() > k_max_release_length) {
    name = kubernetes_name(name.substr(0, k_max_release_length));
  }
  if (const auto problem = check_release_name(name); !problem.empty()) {
    return fail(ErrorKind::usage,
                "cannot name the chart '" + name + "': " + problem + "; pass --release");
  }
  const auto cas = cas_endpoint(mesh.manifest);
  Json services = Json::object();
  std::map<std::string, std::string> owners;
  for (const auto& service : mesh.services) {
    const auto key = kubernetes_name(service.name);
    if (key.empty() || key.size() > 63) {
      return fail(ErrorKind::manifest, "service name '" + service.name
                                           + "' has no Kubernetes form (a DNS label of 1 to 63 "
                                             "letters, digits and '-')");
    }
    if (const auto [owner, inserted] = owners.emplace(key, service.name); !inserted) {
      return fail(ErrorKind::manifest,
                  "services '" + owner->second + "' and '" + service.name + "' both become '" + key
                      + "' in Kubernetes; rename one");
    }
    auto values = service_values(service, cas);
    if (!values) {
      return forward_error(std::move(values.error()));
    }
    if (service.simulation_runtime && !(*values)["scone"].contains("accessTokenSecret")) {
      // The session's service access token comes from a Secret outside the chart
      // (apply writes it to target/k8s-secrets/).
      (*values)["scone"]["accessTokenSecret"] = access_token_secret_name(name, key);
    }
    services[key] = std::move(*values);
  }
  Json values{{"mesh", {{"namespace", namespace_name}, {"casAddress", cas.host}}},
              {"services", std::move(services)}};
  merge_into(values, extra_values(mesh.manifest.helm_extra_values));

  const Json chart_yaml{{"apiVersion", "v2"},
                        {"name", name},
                        {"description", "Confidential services of CAS namespace " + namespace_name},
                        {"type", "application"},
                        {"version", "0.1.0"},
                        {"appVersion", namespace_name},
                        {"annotations", {{"dev.sconectl/namespace", namespace_name}}}};
  auto files = detail::static_files(name);
  files["Chart.yaml"] = yaml::to_yaml(chart_yaml);
  files["values.yaml"] =
      "# Generated by sconectl from " + source_name(mesh.manifest.source)
      + ". The programs' environment and secrets are not here:\n# each pod receives them from "
        "its CAS policy after attestation.\n"
      + yaml::to_yaml(values);
  files["values.schema.json"] = values_schema().dump(2) + "\n";
  return Chart{.name = std::move(name), .values = std::move(values), .files = std::move(files)};
}

}  // namespace sconectl::chart
