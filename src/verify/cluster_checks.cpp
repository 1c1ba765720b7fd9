#include "sconectl/verify/cluster_checks.hpp"

#include "sconectl/util/fs.hpp"
#include "sconectl/util/json_member.hpp"
#include "sconectl/util/strings.hpp"
#include "sconectl/yaml/convert.hpp"

#include <algorithm>
#include <regex>
#include <set>

namespace sconectl::verify {

namespace {

using KubectlJson = nlohmann::json;
using json::member;

std::string text_of(const KubectlJson& value)
{
  return value.is_string() ? value.get<std::string>() : std::string();
}

// The settings the chart writes for the runtime; their values are not secret. The access token
// comes from a Secret by reference, so only that reference is kept.
const std::set<std::string>& runtime_settings()
{
  static const std::set<std::string> names{"SCONE_CONFIG_ID",
                                           "SCONE_CAS_ADDR",
                                           "SCONE_CAS_KEY",
                                           "SCONE_LAS_ADDR",
                                           "SCONE_LOG",
                                           "SCONE_SERVICE_ACCESS_TOKEN"};
  return names;
}

std::string setting_value(const KubectlJson& variable)
{
  if (variable.contains("value")) {
    return text_of(variable.at("value"));
  }
  const auto& from = member(variable, "valueFrom");
  if (const auto& field = member(member(from, "fieldRef"), "fieldPath"); field.is_string()) {
    return "fieldRef:" + field.get<std::string>();
  }
  if (const auto& secret = member(from, "secretKeyRef"); secret.is_object()) {
    return "secretKeyRef:" + text_of(member(secret, "name")) + "/" + text_of(member(secret, "key"));
  }
  return "(from elsewhere)";
}

ContainerSpec container_of(const KubectlJson& container)
{
  ContainerSpec spec{.name = text_of(member(container, "name")),
                     .image = text_of(member(container, "image"))};
  for (const auto& variable : member(container, "env")) {
    const auto name = text_of(member(variable, "name"));
    if (runtime_settings().contains(name)) {
      spec.settings[name] = setting_value(variable);
    } else {
      spec.other_variables.push_back(name);
    }
  }
  std::sort(spec.other_variables.begin(), spec.other_variables.end());
  spec.env_from = member(container, "envFrom").is_array() && !member(container, "envFrom").empty();
  return spec;
}

std::string service_label(const KubectlJson& object)
{
  return text_of(member(member(member(object, "metadata"), "labels"), "app.kubernetes.io/name"));
}

bool condition_true(const KubectlJson& status, const char* type)
{
  for (const auto& condition : member(status, "conditions")) {
    if (member(condition, "type") == type) {
      return member(condition, "status") == "True";
    }
  }
  return false;
}

// "...@sha256:<hex>" -> "sha256:<hex>"; empty when the ID names no digest.
std::string digest_of(const std::string& image_id)
{
  const auto at = image_id.rfind("@sha256:");
  if (at != std::string::npos) {
    return image_id.substr(at + 1);
  }
  // A bare "sha256:..." is a local image ID (the digest of the image's config), not the
  // registry digest recorded at push: it cannot be compared, so it proves nothing either way.
  return {};
}

// kubectl's stdout; an error naming the command and kubectl's message when it fails.
Result<std::string> kubectl_output(ProcessRunner& runner,
                                   const KubectlOptions& options,
                                   const std::vector<std::string>& args)
{
  Command command{.program = options.kubectl, .timeout = std::chrono::seconds(60)};
  if (options.kubeconfig) {
    command.args = {"--kubeconfig", options.kubeconfig->string()};
  }
  // Without a namespace, kubectl uses the kubeconfig context's.
  if (!options.namespace_name.empty()) {
    command.args.insert(command.args.end(), {"--namespace", options.namespace_name});
  }
  command.args.insert(command.args.end(), args.begin(), args.end());
  auto completed = runner.run(command);
  if (!completed) {
    return forward_error(std::move(completed.error()), "running kubectl");
  }
  if (completed->exit_code != 0 || completed->timed_out) {
    auto detail = completed->err.empty() ? completed->out : completed->err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) {
      detail.pop_back();
    }
    return fail(ErrorKind::process,
                to_display_string(command) + ": "
                    + (completed->timed_out ? std::string("timed out")
                                            : "exit " + std::to_string(completed->exit_code))
                    + (detail.empty() ? "" : ": " + detail));
  }
  return std::move(completed->out);
}

// The lines a refused program or its runtime prints, e.g. SCONE's
//   Attestation failed
//   Unexpected enclave measurement (MRENCLAVE, <hex>) - ...
std::vector<std::string> attestation_lines(const std::string& log)
{
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < log.size()) {
    auto end = log.find('\n', start);
    if (end == std::string::npos) {
      end = log.size();
    }
    const auto line = log.substr(start, end - start);
    if (line.find("Attestation failed") != std::string::npos
        || line.find("MRENCLAVE") != std::string::npos) {
      lines.push_back(line.substr(0, 400));
    }
    start = end + 1;
  }
  return lines;
}

void check_deployment(const DeploymentState& live,
                      const ApprovedDeployment& approved,
                      std::vector<Finding>& findings)
{
  const auto subject = "deployment " + live.name;
  const auto* container = [&]() -> const ContainerSpec* {
    for (const auto& candidate : live.containers) {
      if (candidate.name == approved.container.name) {
        return &candidate;
      }
    }
    return nullptr;
  }();
  if (container == nullptr) {
    findings.push_back({.area = Area::cluster,
                        .kind = "container-missing",
                        .subject = subject,
                        .message = "has no container " + approved.container.name});
    return;
  }
  if (container->image != approved.container.image) {
    findings.push_back({.area = Area::cluster,
                        .kind = "deployment-image",
                        .subject = subject,
                        .message = "runs image " + container->image + ", not the approved "
                                   + approved.container.image});
  }
  for (const auto& [name, value] : approved.container.settings) {
    const auto found = container->settings.find(name);
    const auto actual =
        found == container->settings.end() ? std::string("(not set)") : found->second;
    if (actual != value) {
      findings.push_back({.area = Area::cluster,
                          .kind = name == "SCONE_CAS_KEY"     ? "deployment-cas-key"
                                  : name == "SCONE_CONFIG_ID" ? "deployment-config-id"
                                                              : "deployment-setting",
                          .subject = subject,
                          .message = name + " is " + actual + ", not the approved " + value});
    }
  }
  for (const auto& [name, value] : container->settings) {
    if (!approved.container.settings.contains(name)) {
      findings.push_back({.area = Area::cluster,
                          .kind = "deployment-setting",
                          .subject = subject,
                          .message = name + " is set, the approved chart does not set it"});
    }
  }
  std::vector<std::string> extra;
  std::set_difference(container->other_variables.begin(),
                      container->other_variables.end(),
                      approved.container.other_variables.begin(),
                      approved.container.other_variables.end(),
                      std::back_inserter(extra));
  if (!extra.empty() || (container->env_from && !approved.container.env_from)) {
    auto names = strings::join(extra, ", ");
    if (container->env_from && !approved.container.env_from) {
      names += std::string(names.empty() ? "" : ", ") + "envFrom";
    }
    findings.push_back({.area = Area::cluster,
                        .kind = "extra-environment",
                        .subject = subject,
                        .message = "container " + container->name
                                   + " has environment the chart "
                                     "does not set: "
                                   + names
                                   + ". The program's environment comes from the CAS after "
                                     "attestation, so it has no effect, but someone tried"});
  }
}

void check_pod(const PodState& pod,
               const ApprovedDeployment& approved,
               std::vector<Finding>& findings)
{
  const auto subject = "pod " + pod.name;
  for (const auto& status : pod.containers) {
    if (status.name != approved.container.name) {
      continue;
    }
    // A check that cannot be made is said, so that "verified" never stands on a comparison that
    // did not happen.
    if (!approved.image_digest) {
      findings.push_back({.severity = Severity::warning,
                          .area = Area::cluster,
                          .kind = "pod-image-unverifiable",
                          .subject = subject,
                          .message = "no registry digest was recorded for service "
                                     + approved.service
                                     + " (built without a push?): the image it runs, "
                                     + status.image_id + ", is not compared"});
      continue;
    }
    const auto digest = digest_of(status.image_id);
    if (digest.empty()) {
      findings.push_back({.severity = Severity::warning,
                          .area = Area::cluster,
                          .kind = "pod-image-unverifiable",
                          .subject = subject,
                          .message = "the node reports a local image ID, " + status.image_id
                                     + ", not a registry digest: it is not compared with "
                                     + *approved.image_digest + " of service " + approved.service});
    } else if (digest != *approved.image_digest) {
      findings.push_back({.area = Area::cluster,
                          .kind = "pod-image-digest",
                          .subject = subject,
                          .message = "runs " + status.image_id + ", not the recorded digest "
                                     + *approved.image_digest + " of service " + approved.service});
    }
  }
  static const std::regex refused(R"(MRENCLAVE, ([0-9a-fA-F]{64}))");
  std::set<std::string> measurements;
  for (const auto& line : pod.attestation_log) {
    std::smatch match;
    if (std::regex_search(line, match, refused)) {
      measurements.insert(match[1].str());
    }
  }
  for (const auto& measurement : measurements) {
    findings.push_back(
        {.area = Area::cluster,
         .kind = "measurement-not-admitted",
         .subject = subject,
         .message = "runs a program the CAS does not admit: measurement " + measurement,
         .details = pod.attestation_log});
  }
  if (!pod.ready && !pod.terminating) {
    findings.push_back(
        {.area = Area::cluster,
         .kind = measurements.empty() && !pod.attestation_log.empty() ? "attestation-failed"
                                                                      : "pod-not-ready",
         .subject = subject,
         .message = "is not Ready (phase " + pod.phase + ")"
                    + (pod.attestation_log.empty() ? ""
                                                   : ": its log reports a failed "
                                                     "attestation"),
         .details = measurements.empty() ? pod.attestation_log : std::vector<std::string>{}});
  }
}

}  // namespace

nlohmann::ordered_json to_json(const ClusterState& state)
{
  using Ordered = nlohmann::ordered_json;
  auto container_json = [](const ContainerSpec& spec) {
    Ordered settings = Ordered::object();
    for (const auto& [name, value] : spec.settings) {
      settings[name] = value;
    }
    return Ordered{{"name", spec.name},
                   {"image", spec.image},
                   {"settings", settings},
                   {"other_variables", spec.other_variables},
                   {"env_from", spec.env_from}};
  };
  auto deployments = Ordered::array();
  for (const auto& deployment : state.deployments) {
    auto containers = Ordered::array();
    for (const auto& container : deployment.containers) {
      containers.push_back(container_json(container));
    }
    deployments.push_back(
        {{"name", deployment.name}, {"service", deployment.service}, {"containers", containers}});
  }
  auto pods = Ordered::array();
  for (const auto& pod : state.pods) {
    auto containers = Ordered::array();
    for (const auto& status : pod.containers) {
      containers.push_back({{"name", status.name},
                            {"image_id", status.image_id},
                            {"ready", status.ready},
                            {"restarts", status.restarts}});
    }
    pods.push_back({{"name", pod.name},
                    {"service", pod.service},
                    {"phase", pod.phase},
                    {"ready", pod.ready},
                    {"terminating", pod.terminating},
                    {"containers", containers},
                    {"attestation_log", pod.attestation_log}});
  }
  return Ordered{{"namespace", state.namespace_name},
                 {"release", state.release},
                 {"deployments", deployments},
                 {"pods", pods}};
}

Result<ClusterState> cluster_state_from_json(const nlohmann::json& json)
{
  try {
    ClusterState state{.namespace_name = json.at("namespace").get<std::string>(),
                       .release = json.at("release").get<std::string>()};
    for (const auto& deployment : json.at("deployments")) {
      DeploymentState live{.name = deployment.at("name").get<std::string>(),
                           .service = deployment.at("service").get<std::string>()};
      for (const auto& container : deployment.at("containers")) {
        ContainerSpec spec{.name = container.at("name").get<std::string>(),
                           .image = container.at("image").get<std::string>(),
                           .env_from = container.at("env_from").get<bool>()};
        for (const auto& [name, value] : container.at("settings").items()) {
          spec.settings[name] = value.get<std::string>();
        }
        spec.other_variables = container.at("other_variables").get<std::vector<std::string>>();
        live.containers.push_back(std::move(spec));
      }
      state.deployments.push_back(std::move(live));
    }
    for (const auto& pod : json.at("pods")) {
      PodState live{.name = pod.at("name").get<std::string>(),
                    .service = pod.at("service").get<std::string>(),
                    .phase = pod.at("phase").get<std::string>(),
                    .ready = pod.at("ready").get<bool>(),
                    .terminating = pod.at("terminating").get<bool>(),
                    .attestation_log = pod.at("attestation_log").get<std::vector<std::string>>()};
      for (const auto& status : pod.at("containers")) {
        live.containers.push_back({.name = status.at("name").get<std::string>(),
                                   .image_id = status.at("image_id").get<std::string>(),
                                   .ready = status.at("ready").get<bool>(),
                                   .restarts = status.at("restarts").get<int>()});
      }
      state.pods.push_back(std::move(live));
    }
    return state;
  } catch (const nlohmann::json::exception& error) {
    return fail(ErrorKind::manifest, std::string("cluster state: ") + error.what());
  }
}

Result<ClusterState> read_cluster_state(ProcessRunner& runner, const KubectlOptions& options)
{
  auto output = kubectl_output(runner,
                               options,
                               {"get",
                                "deployments,pods",
                                "-l",
                                "app.kubernetes.io/instance=" + options.release,
                                "-o",
                                "json"});
  if (!output) {
    return forward_error(std::move(output.error()));
  }
  const auto listed = KubectlJson::parse(*output, nullptr, false);
  if (listed.is_discarded()) {
    return fail(ErrorKind::process, "kubectl get deployments,pods: its output is not JSON");
  }
  ClusterState state{.namespace_name = options.namespace_name, .release = options.release};
  for (const auto& item : member(listed, "items")) {
    const auto kind = text_of(member(item, "kind"));
    const auto name = text_of(member(member(item, "metadata"), "name"));
    if (kind == "Deployment") {
      DeploymentState deployment{.name = name, .service = service_label(item)};
      for (const auto& container :
           member(member(member(member(item, "spec"), "template"), "spec"), "containers")) {
        deployment.containers.push_back(container_of(container));
      }
      state.deployments.push_back(std::move(deployment));
    } else if (kind == "Pod") {
      const auto& status = member(item, "status");
      PodState pod{.name = name,
                   .service = service_label(item),
                   .phase = text_of(member(status, "phase")),
                   .ready = condition_true(status, "Ready"),
                   .terminating = !member(member(item, "metadata"), "deletionTimestamp").is_null()};
      for (const auto& container : member(status, "containerStatuses")) {
        pod.containers.push_back({.name = text_of(member(container, "name")),
                                  .image_id = text_of(member(container, "imageID")),
                                  .ready = member(container, "ready") == true,
                                  .restarts = member(container, "restartCount").is_number_integer()
                                                  ? member(container, "restartCount").get<int>()
                                                  : 0});
      }
      state.pods.push_back(std::move(pod));
    }
  }
  // The logs say why a pod is not ready; a pod that restarted may have failed before.
  for (auto& pod : state.pods) {
    for (const auto& container : pod.containers) {
      if (pod.ready && container.restarts == 0) {
        continue;
      }
      for (const bool previous : {false, true}) {
        if (previous && container.restarts == 0) {
          continue;
        }
        std::vector<std::string> args{"logs", pod.name, "-c", container.name, "--tail", "200"};
        if (previous) {
          args.emplace_back("--previous");
        }
        // A container that has not started yet has no log: not an error of verify's.
        if (auto log = kubectl_output(runner, options, args); log) {
          for (auto& line : attestation_lines(*log)) {
            if (std::find(pod.attestation_log.begin(), pod.attestation_log.end(), line)
                == pod.attestation_log.end()) {
              pod.attestation_log.push_back(std::move(line));
            }
          }
        }
      }
    }
  }
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::sort(state.deployments.begin(), state.deployments.end(), by_name);
  std::sort(state.pods.begin(), state.pods.end(), by_name);
  return state;
}

Result<std::vector<ApprovedDeployment>> approved_deployments(
    const std::filesystem::path& manifests_dir,
    const std::map<std::string, std::string>& digests_by_service)
{
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(manifests_dir, error)) {
    if (entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  if (error) {
    return fail(ErrorKind::io, manifests_dir.string() + ": " + error.message());
  }
  std::sort(files.begin(), files.end());
  std::vector<ApprovedDeployment> approved;
  for (const auto& file : files) {
    auto text = fs::read_text_file(file);
    if (!text) {
      return forward_error(std::move(text.error()));
    }
    auto document = yaml::parse_yaml(*text);
    if (!document) {
      return forward_error(std::move(document.error()), file.string());
    }
    const KubectlJson object = KubectlJson::parse(document->dump());
    if (member(object, "kind") != "Deployment") {
      continue;
    }
    const auto service = service_label(object);
    const auto& containers =
        member(member(member(member(object, "spec"), "template"), "spec"), "containers");
    if (!containers.is_array() || containers.empty()) {
      return fail(ErrorKind::internal, file.string() + ": a Deployment without containers");
    }
    ApprovedDeployment deployment{.name = text_of(member(member(object, "metadata"), "name")),
                                  .service = service,
                                  .container = container_of(containers.at(0))};
    if (const auto digest = digests_by_service.find(service); digest != digests_by_service.end()) {
      deployment.image_digest = digest->second;
    }
    approved.push_back(std::move(deployment));
  }
  return approved;
}

std::vector<Finding> check_cluster(const ClusterState& state,
                                   const std::vector<ApprovedDeployment>& approved)
{
  std::vector<Finding> findings;
  std::set<std::string> approved_services;
  for (const auto& expected : approved) {
    approved_services.insert(expected.service);
    const auto live = std::find_if(state.deployments.begin(),
                                   state.deployments.end(),
                                   [&](const auto& d) { return d.name == expected.name; });
    if (live == state.deployments.end()) {
      findings.push_back({.area = Area::cluster,
                          .kind = "deployment-missing",
                          .subject = "deployment " + expected.name,
                          .message = "not found in namespace " + state.namespace_name
                                     + " for release " + state.release});
      continue;
    }
    check_deployment(*live, expected, findings);
    std::size_t pods = 0;
    for (const auto& pod : state.pods) {
      if (pod.service == expected.service) {
        ++pods;
        check_pod(pod, expected, findings);
      }
    }
    if (pods == 0) {
      findings.push_back({.severity = Severity::warning,
                          .area = Area::cluster,
                          .kind = "no-pods",
                          .subject = "deployment " + expected.name,
                          .message = "has no pods: nothing of this service runs"});
    }
  }
  for (const auto& pod : state.pods) {
    if (!approved_services.contains(pod.service)) {
      findings.push_back({.severity = Severity::warning,
                          .area = Area::cluster,
                          .kind = "unexpected-pod",
                          .subject = "pod " + pod.name,
                          .message = "belongs to release " + state.release
                                     + " but to no service of the manifests"});
    }
  }
  return findings;
}

}  // namespace sconectl::verify
