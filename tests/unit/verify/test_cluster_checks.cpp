// verify's cluster side: what `kubectl get -o json` and `kubectl logs` show, reduced to what the
// checks need (no values of variables the chart does not write), and the checks on it.
#include "fake_process_runner.hpp"
#include "finding_kinds.hpp"
#include "sconectl/verify/cluster_checks.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace sconectl::verify {
namespace {

using testing::FakeProcessRunner;

constexpr const char* k_digest =
    "sha256:7e5d002b57a5dad71f46c1eaaf8bbf443e919e01728b92b39edbf5276d28e0ec";
constexpr const char* k_image =
    "127.0.0.1:5000/demo/"
    "hello-user:1@sha256:7e5d002b57a5dad71f46c1eaaf8bbf443e919e01728b92b39edbf5276d28e0ec";
constexpr const char* k_refused =
    "Unexpected enclave measurement (MRENCLAVE, "
    "2222222222222222222222222222222222222222222222222222222222222222) - not a value the session "
    "admits";

nlohmann::json container(const std::string& image,
                         nlohmann::json extra_env = nlohmann::json::array())
{
  auto env = nlohmann::json::array({
      {{"name", "SCONE_CONFIG_ID"}, {"value", "demo/hello-user/hello-user"}},
      {{"name", "SCONE_CAS_ADDR"}, {"value", "10.0.0.1:8081"}},
      {{"name", "SCONE_LAS_ADDR"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.hostIP"}}}}}},
      {{"name", "SCONE_CAS_KEY"}, {"value", "cas-key-hash"}},
      {{"name", "SCONE_SERVICE_ACCESS_TOKEN"},
       {"valueFrom", {{"secretKeyRef", {{"name", "hello-token"}, {"key", "token"}}}}}},
  });
  for (const auto& variable : extra_env) {
    env.push_back(variable);
  }
  return {{"name", "hello-user"}, {"image", image}, {"env", env}};
}

nlohmann::json deployment(const nlohmann::json& spec_container)
{
  return {{"kind", "Deployment"},
          {"metadata",
           {{"name", "rel-hello-user"},
            {"labels",
             {{"app.kubernetes.io/name", "hello-user"}, {"app.kubernetes.io/instance", "rel"}}}}},
          {"spec",
           {{"template", {{"spec", {{"containers", nlohmann::json::array({spec_container})}}}}}}}};
}

nlohmann::json pod(const std::string& name,
                   const std::string& image_id,
                   bool ready,
                   int restarts = 0)
{
  return {{"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{"app.kubernetes.io/name", "hello-user"}, {"app.kubernetes.io/instance", "rel"}}}}},
          {"status",
           {{"phase", "Running"},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}},
            {"containerStatuses",
             {{{"name", "hello-user"},
               {"imageID", image_id},
               {"ready", ready},
               {"restartCount", restarts}}}}}}};
}

ApprovedDeployment approved()
{
  return ApprovedDeployment{
      .name = "rel-hello-user",
      .service = "hello-user",
      .container = ContainerSpec{.name = "hello-user",
                                 .image = k_image,
                                 .settings = {{"SCONE_CAS_ADDR", "10.0.0.1:8081"},
                                              {"SCONE_CAS_KEY", "cas-key-hash"},
                                              {"SCONE_CONFIG_ID", "demo/hello-user/hello-user"},
                                              {"SCONE_LAS_ADDR", "fieldRef:status.hostIP"},
                                              {"SCONE_SERVICE_ACCESS_TOKEN",
                                               "secretKeyRef:hello-token/token"}}},
      .image_digest = k_digest};
}

class ClusterChecksTest : public ::testing::Test {
 protected:
  // A single item in braces is that item, not a list of it: both are taken.
  ClusterState read(const nlohmann::json& given, const std::string& log = "")
  {
    const auto items = given.is_array() ? given : nlohmann::json::array({given});
    m_runner.on(
        FakeProcessRunner::args_start_with(
            {"--kubeconfig", "/k/config", "--namespace", "ns", "get"}),
        FakeProcessRunner::reply(0, nlohmann::json{{"kind", "List"}, {"items", items}}.dump()));
    m_runner.on(FakeProcessRunner::args_start_with(
                    {"--kubeconfig", "/k/config", "--namespace", "ns", "logs"}),
                FakeProcessRunner::reply(0, log));
    auto state = read_cluster_state(m_runner,
                                    {.kubectl = "kubectl",
                                     .kubeconfig = "/k/config",
                                     .namespace_name = "ns",
                                     .release = "rel"});
    EXPECT_TRUE(state) << state.error().describe();
    return *state;
  }

  FakeProcessRunner m_runner;
};

TEST_F(ClusterChecksTest, TheApprovedDeploymentWithAReadyPodOfTheRecordedDigestIsClean)
{
  const auto state = read(
      {deployment(container(k_image)),
       pod("rel-hello-user-1", std::string("127.0.0.1:5000/demo/hello-user@") + k_digest, true)});
  EXPECT_TRUE(check_cluster(state, {approved()}).empty());
  const auto gets = m_runner.matching({"--kubeconfig", "/k/config", "--namespace", "ns", "get"});
  ASSERT_EQ(gets.size(), 1U);
  EXPECT_EQ(gets[0].args,
            (std::vector<std::string>{"--kubeconfig",
                                      "/k/config",
                                      "--namespace",
                                      "ns",
                                      "get",
                                      "deployments,pods",
                                      "-l",
                                      "app.kubernetes.io/instance=rel",
                                      "-o",
                                      "json"}));
  // A ready pod that never restarted: its log is not read.
  EXPECT_TRUE(
      m_runner.matching({"--kubeconfig", "/k/config", "--namespace", "ns", "logs"}).empty());
}

// The tutorial's `kubectl set env API_PASSWORD=incorrect_pw API_USER=incorrect_user`.
// After a rollout the replaced pod is deleted; on its way out it is not Ready, and that is fine.
TEST_F(ClusterChecksTest, APodBeingDeletedNeedNotBeReady)
{
  auto leaving = pod("rel-hello-user-0", std::string("r@") + k_digest, false);
  leaving["metadata"]["deletionTimestamp"] = "2026-12-06T21:00:00Z";
  leaving["status"]["phase"] = "Succeeded";
  const auto state = read({deployment(container(k_image)),
                           leaving,
                           pod("rel-hello-user-1", std::string("r@") + k_digest, true)});
  EXPECT_TRUE(state.pods.at(0).terminating);
  EXPECT_TRUE(check_cluster(state, {approved()}).empty());
}

TEST_F(ClusterChecksTest, ExtraEnvironmentIsReportedByNameAndItsValuesAreNotKept)
{
  const auto state =
      read({deployment(container(k_image,
                                 {{{"name", "API_PASSWORD"}, {"value", "incorrect_pw"}},
                                  {{"name", "API_USER"}, {"value", "incorrect_user"}}}))});
  const auto findings = check_cluster(state, {approved()});
  EXPECT_EQ(finding_kinds(findings),
            (std::vector<std::string>{"error:extra-environment", "warning:no-pods"}));
  const auto reduced = to_json(state).dump();
  EXPECT_EQ(reduced.find("incorrect_pw"), std::string::npos) << reduced;
  EXPECT_NE(findings.front().message.find("API_PASSWORD, API_USER"), std::string::npos);
}

// A node that knows no repository digest reports the image's local ID, the digest of its config:
// another kind of digest than the one recorded at push. It cannot be compared, and verify says so
// (a warning) rather than counting it as checked.
TEST_F(ClusterChecksTest, ALocalImageIdIsNotComparedAndVerifySaysSo)
{
  const auto state = read({deployment(container(k_image)),
                           pod("rel-hello-user-1", "sha256:" + std::string(64, '3'), true)});
  const auto findings = check_cluster(state, {approved()});
  EXPECT_EQ(finding_kinds(findings), (std::vector<std::string>{"warning:pod-image-unverifiable"}));
  EXPECT_NE(findings.at(0).message.find("local image ID"), std::string::npos);
}

TEST_F(ClusterChecksTest, AServiceWithoutARecordedDigestIsNotComparedAndVerifySaysSo)
{
  auto unpushed = approved();
  unpushed.image_digest.reset();
  const auto state = read(
      {deployment(container(k_image)),
       pod("rel-hello-user-1", std::string("127.0.0.1:5000/demo/hello-user@") + k_digest, true)});
  const auto findings = check_cluster(state, {unpushed});
  EXPECT_EQ(finding_kinds(findings), (std::vector<std::string>{"warning:pod-image-unverifiable"}));
  EXPECT_NE(findings.at(0).message.find("no registry digest was recorded"), std::string::npos);
}

// A changed program under the same tag, or the old image re-tagged: the Deployment no longer
// names the digest, the pod runs another one and fails attestation.
TEST_F(ClusterChecksTest, AnotherImageAndARefusedMeasurementAreReportedWithTheLogLines)
{
  const auto state = read({deployment(container("127.0.0.1:5000/demo/hello-user:1")),
                           pod("rel-hello-user-2",
                               "127.0.0.1:5000/demo/hello-user@sha256:" + std::string(64, '9'),
                               false,
                               3)},
                          std::string("starting\nAttestation failed\n") + k_refused + "\n");
  const auto findings = check_cluster(state, {approved()});
  EXPECT_EQ(finding_kinds(findings),
            (std::vector<std::string>{"error:deployment-image",
                                      "error:measurement-not-admitted",
                                      "error:pod-image-digest",
                                      "error:pod-not-ready"}));
  const auto refused = std::find_if(findings.begin(), findings.end(), [](const auto& f) {
    return f.kind == "measurement-not-admitted";
  });
  EXPECT_NE(refused->message.find(std::string(64, '2')), std::string::npos);
  EXPECT_EQ(refused->details, (std::vector<std::string>{"Attestation failed", k_refused}));
  // A pod that restarted: the previous run's log is read as well.
  EXPECT_EQ(m_runner.matching({"--kubeconfig", "/k/config", "--namespace", "ns", "logs"}).size(),
            2U);
}

TEST_F(ClusterChecksTest, ChangedSettingsAndAMissingDeploymentAreErrors)
{
  auto changed = container(k_image);
  changed["env"][3]["value"] = "another-cas-key";
  changed["env"][0]["value"] = "demo/other/other";
  auto state = read({deployment(changed)});
  EXPECT_EQ(finding_kinds(check_cluster(state, {approved()})),
            (std::vector<std::string>{
                "error:deployment-cas-key", "error:deployment-config-id", "warning:no-pods"}));
  state.deployments.clear();
  EXPECT_EQ(finding_kinds(check_cluster(state, {approved()})),
            (std::vector<std::string>{"error:deployment-missing"}));
}

TEST_F(ClusterChecksTest, TheStateRoundTripsThroughItsJson)
{
  const auto state = read({deployment(container(k_image)),
                           pod("rel-hello-user-2", "x@sha256:" + std::string(64, '9'), false)},
                          std::string("Attestation failed\n"));
  const auto again = cluster_state_from_json(nlohmann::json::parse(to_json(state).dump()));
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(to_json(*again), to_json(state));
}

TEST_F(ClusterChecksTest, AKubectlFailureNamesTheCommandAndItsMessage)
{
  m_runner.on(FakeProcessRunner::args_start_with({"--namespace"}),
              FakeProcessRunner::reply(
                  1, "", "error: You must be logged in to the server (Unauthorized)\n"));
  const auto state = read_cluster_state(m_runner, {.namespace_name = "ns", .release = "rel"});
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find("Unauthorized"), std::string::npos) << state.error().message;
  EXPECT_NE(state.error().message.find("kubectl --namespace ns get"), std::string::npos)
      << state.error().message;
}

TEST_F(ClusterChecksTest, WithoutANamespaceKubectlUsesTheContexts)
{
  m_runner.on(FakeProcessRunner::args_start_with({"get"}),
              FakeProcessRunner::reply(0, R"({"kind": "List", "items": []})"));
  const auto state = read_cluster_state(m_runner, {.release = "rel"});
  ASSERT_TRUE(state) << state.error().describe();
  ASSERT_EQ(m_runner.commands.size(), 1U);
  EXPECT_EQ(m_runner.commands[0].args.front(), "get");
}

TEST(ApprovedDeploymentsTest, AreTheDeploymentsOfTheRenderedManifests)
{
  testing::TempDir dir;
  std::ofstream(dir.path() / "hello-user-deployment.yaml")
      << "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: rel-hello-user\n  labels:\n"
         "    app.kubernetes.io/name: hello-user\nspec:\n  template:\n    spec:\n      "
         "containers:\n"
         "        - name: hello-user\n          image: img@sha256:1\n          env:\n"
         "            - name: SCONE_CONFIG_ID\n              value: demo/hello-user/hello-user\n";
  std::ofstream(dir.path() / "hello-user-service.yaml")
      << "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n";
  const auto deployments = approved_deployments(dir.path(), {{"hello-user", k_digest}});
  ASSERT_TRUE(deployments) << deployments.error().describe();
  ASSERT_EQ(deployments->size(), 1U);
  EXPECT_EQ(deployments->at(0).name, "rel-hello-user");
  EXPECT_EQ(deployments->at(0).container.image, "img@sha256:1");
  EXPECT_EQ(deployments->at(0).container.settings.at("SCONE_CONFIG_ID"),
            "demo/hello-user/hello-user");
  EXPECT_EQ(deployments->at(0).image_digest, std::optional<std::string>(k_digest));
}

}  // namespace
}  // namespace sconectl::verify
