#include "golden.hpp"
#include "mesh_fixture.hpp"
#include "sconectl/apply/apply_mesh.hpp"
#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/util/file_tree.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace sconectl::chart {
namespace {

using testing::TempDir;

constexpr const char* k_service = R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: PASSWORD
      value: "$$SCONE::password$$"
    - name: TOKEN
      value: "$$SCONE::token$$"
  global:
    - name: API_USER
secrets:
  global:
    - name: password
      kind: ascii
      size: 16
    - name: token
      kind: ascii
      value: "explicit-token-value-77"
build:
  name: web_app
  kind: python
  to: registry.example.com/team/web:1
  pwd: /app
  command: python3 web.py
)";

class ChartTest : public ::testing::Test {
 protected:
  Result<apply::MeshApplyResult> apply(const std::string& extra_mesh,
                                       const std::string& port = "8080",
                                       bool manifests = true)
  {
    testing::record_service(m_dir.write("web/service.yaml", k_service), target());
    const auto file = m_dir.write("mesh.yaml", R"(apiVersion: scone/5.8
kind: mesh
cas:
  - name: cas
    cas_url: cas.example.com:8081
    mode: NoUpload
policy:
  namespace: Team_NS.1
env:
  - service: global
    env:
      - name: API_USER
        value: "the-api-user"
      - name: APP_SERVICE_PORT
        value: ")" + port + R"("
services:
  - name: web_app
    image: registry.example.com/team/web:1
)" + extra_mesh);
    m_mesh = testing::load_mesh(file);
    return apply::generate_mesh(
        m_mesh, apply::MeshApplyOptions{.target_dir = target(), .write_manifests = manifests});
  }

  [[nodiscard]] std::filesystem::path target() const { return m_dir.path() / "target"; }

  TempDir m_dir;
  manifest::MeshManifest m_mesh;
};

TEST_F(ChartTest, TheChartCarriesNoProgramEnvironmentNoSecretAndNoReference)
{
  const auto result = apply("");
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  EXPECT_EQ(result->chart_name, "team-ns-1");
  for (const auto* dir : {"helm", "manifests"}) {
    const auto files = testing::read_tree(target() / dir);
    ASSERT_FALSE(files.empty()) << dir;
    for (const auto& [path, content] : files) {
      EXPECT_EQ(content.find("$$SCONE::"), std::string::npos) << dir << "/" << path;
      EXPECT_EQ(content.find("explicit-token-value-77"), std::string::npos) << dir << "/" << path;
      EXPECT_EQ(content.find("the-api-user"), std::string::npos) << dir << "/" << path;
    }
  }
  // The policy, bound for CAS, does hold them.
  const auto policy = testing::read_file(target() / "policies" / "Team_NS.1" / "web_app.yaml");
  EXPECT_NE(policy.find("explicit-token-value-77"), std::string::npos);
  EXPECT_NE(policy.find("\"the-api-user\""), std::string::npos);
  const auto values = testing::read_file(target() / "helm" / "values.yaml");
  EXPECT_NE(values.find("configId: \"Team_NS.1/web_app/web_app\""), std::string::npos) << values;
  EXPECT_NE(values.find("casAddress: \"cas.example.com\""), std::string::npos) << values;
  EXPECT_NE(values.find("  web-app:\n"), std::string::npos) << values;
}

TEST_F(ChartTest, PoliciesArePrivateToTheOwner)
{
  ASSERT_TRUE(apply(""));
  struct stat info {};
  ASSERT_EQ(::stat((target() / "policies" / "Team_NS.1" / "web_app.yaml").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat((target() / "policies").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700U);
}

TEST_F(ChartTest, ASecretSmuggledIntoHelmExtraValuesIsRefusedAndNothingIsWritten)
{
  const auto result = apply(R"(    helm_extra_values:
      podAnnotations:
        leak: "explicit-token-value-77"
)");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("would contain the value of secret 'token'"),
            std::string::npos)
      << result.error().message;
  EXPECT_FALSE(std::filesystem::exists(target() / "helm"));
  EXPECT_FALSE(std::filesystem::exists(target() / "policies"));
}

TEST_F(ChartTest, AnInvalidServicePortIsAnError)
{
  const auto result = apply("", "http");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("env APP_SERVICE_PORT of service 'web_app' is 'http'; "
                                        "expected a port number from 1 to 65535"),
            std::string::npos)
      << result.error().message;
}

TEST_F(ChartTest, ExtraValuesMergeIntoTheServiceAndReachTheManifests)
{
  const auto result = apply(R"(    helm_extra_values:
      replicaCount: 3
      resources:
        limits:
          sgx.k8s.io/sgx: 2
)");
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  const auto deployment = testing::read_file(target() / "manifests" / "web-app-deployment.yaml");
  EXPECT_NE(deployment.find("replicas: 3\n"), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("sgx.k8s.io/sgx: 2\n"), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("name: \"team-ns-1-web-app\""), std::string::npos) << deployment;
}

// A service built with --runtime sim, in a mesh with the given policy and CAS key lines.
class SimulationChartTest : public ::testing::Test {
 protected:
  Result<apply::MeshApplyResult> apply(const std::string& tolerate,
                                       const std::string& cas_key,
                                       model::EnclaveMode mode = model::EnclaveMode::debug,
                                       const std::string& service_extra = "")
  {
    std::string service = k_service;
    service += "injection_files:\n  - path: /run/web/conf\n    content: \"x={{API_USER}}\"\n";
    testing::record_service(m_dir.write("web/service.yaml", service), target(), "sim");
    const auto file = m_dir.write("mesh.yaml", R"(apiVersion: scone/5.8
kind: mesh
cas:
  - name: cas
    cas_url: cas.example.com:18765
    mode: NoUpload
)" + cas_key + R"(
policy:
  namespace: sim-ns
  tolerate: ")" + tolerate + R"("
env:
  - service: global
    env:
      - name: API_USER
        value: "the-api-user"
services:
  - name: web_app
    image: registry.example.com/team/web:1
)" + service_extra);
    m_mesh = testing::load_mesh(file);
    return apply::generate_mesh(m_mesh,
                                apply::MeshApplyOptions{.target_dir = target(),
                                                        .mode = mode,
                                                        .write_manifests = true,
                                                        .new_access_token = [this] {
                                                          return Result<std::string>(m_next_token);
                                                        }});
  }
  // Every file under `dir`, as "path: content".
  [[nodiscard]] static std::string all_files(const std::filesystem::path& dir)
  {
    std::string joined;
    for (const auto& [path, content] : testing::read_tree(dir)) {
      joined += path + ": " + content;
    }
    return joined;
  }
  std::string m_next_token = std::string(64, 'a');
  [[nodiscard]] std::filesystem::path target() const { return m_dir.path() / "target"; }
  TempDir m_dir;
  manifest::MeshManifest m_mesh;
};

constexpr const char* k_key_line =
    "    cas_key: 3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh";

TEST_F(SimulationChartTest, ASimServiceNeedsTheSimulationToleration)
{
  const auto refused = apply("outdated-tcb", k_key_line);
  ASSERT_FALSE(refused);
  const auto text = testing::diagnostics_text(refused.error());
  EXPECT_EQ(refused.error().kind, ErrorKind::manifest);
  EXPECT_NE(text.find("services[0].image"), std::string::npos) << text;
  EXPECT_NE(text.find("add 'simulation' to policy.tolerate"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(target() / "helm"));
}

TEST_F(SimulationChartTest, ProductionRefusesTheSimulationToleration)
{
  const auto refused = apply("simulation", k_key_line, model::EnclaveMode::production);
  ASSERT_FALSE(refused);
  const auto text = testing::diagnostics_text(refused.error());
  EXPECT_NE(text.find("policy.tolerate lists simulation in production mode"), std::string::npos)
      << text;
}

TEST_F(SimulationChartTest, ASimServiceNeedsTheCasKey)
{
  const auto refused = apply("simulation", "");
  ASSERT_FALSE(refused);
  const auto text = testing::diagnostics_text(refused.error());
  EXPECT_NE(text.find("cas[].cas_key"), std::string::npos) << text;
  EXPECT_NE(text.find("needs the CAS key"), std::string::npos) << text;
}

TEST_F(SimulationChartTest, TheDeploymentGivesTheRuntimeItsCasAndAMemoryVolume)
{
  const auto result = apply("simulation", k_key_line);
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  const auto values = testing::read_file(target() / "helm" / "values.yaml");
  EXPECT_NE(values.find("casAddress: \"cas.example.com:18765\""), std::string::npos) << values;
  EXPECT_NE(values.find("casKey: \"3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh\""),
            std::string::npos);
  EXPECT_NE(values.find("mountPath: \"/run/web\""), std::string::npos) << values;
  EXPECT_EQ(values.find("sgx.k8s.io/sgx"), std::string::npos) << values;
  const auto deployment = testing::read_file(target() / "manifests" / "web-app-deployment.yaml");
  EXPECT_NE(deployment.find("SCONE_CAS_KEY"), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("medium: \"Memory\""), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("mountPath: \"/run/web\""), std::string::npos) << deployment;
  const auto policy = testing::read_file(target() / "policies" / "sim-ns" / "web_app.yaml");
  EXPECT_NE(policy.find("- \"simulation\""), std::string::npos) << policy;
}

// A simulated measurement is self-reported, so the session asks for a service access token, which
// the pod takes from a Kubernetes Secret outside the chart.
TEST_F(SimulationChartTest, ASimServiceGetsAnAccessTokenFromASecretOutsideTheChart)
{
  const auto token = m_next_token;
  const auto result = apply("simulation", k_key_line);
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  const auto policy = testing::read_file(target() / "policies" / "sim-ns" / "web_app.yaml");
  EXPECT_NE(policy.find("service_access_token: \"" + token + "\""), std::string::npos) << policy;

  const auto chart = all_files(target() / "helm") + all_files(target() / "manifests");
  EXPECT_EQ(chart.find(token), std::string::npos) << "the chart must not contain the token";
  EXPECT_NE(chart.find("accessTokenSecret: \"sim-ns-web-app-sconectl-access\""), std::string::npos)
      << chart;
  const auto deployment = testing::read_file(target() / "manifests" / "web-app-deployment.yaml");
  EXPECT_NE(deployment.find("name: \"SCONE_SERVICE_ACCESS_TOKEN\""), std::string::npos)
      << deployment;
  EXPECT_NE(deployment.find("secretKeyRef:"), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("name: \"sim-ns-web-app-sconectl-access\""), std::string::npos)
      << deployment;

  const auto secret_file = target() / "k8s-secrets" / "sim-ns-web-app-sconectl-access.yaml";
  ASSERT_EQ(result->secret_files, std::vector<std::filesystem::path>{secret_file});
  const auto secret = testing::read_file(secret_file);
  EXPECT_NE(secret.find("kind: Secret\n"), std::string::npos) << secret;
  EXPECT_NE(secret.find("name: \"sim-ns-web-app-sconectl-access\""), std::string::npos) << secret;
  EXPECT_NE(secret.find("  token: \"" + token + "\"\n"), std::string::npos) << secret;
  for (const auto& file : {secret_file, apply::access_token_file(target())}) {
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0) << file;
    EXPECT_EQ(info.st_mode & 0777, 0600U) << file;
  }
}

TEST_F(SimulationChartTest, ATokenSmuggledIntoHelmExtraValuesIsRefusedAndNothingIsWritten)
{
  const auto result = apply(
      "simulation",
      k_key_line,
      model::EnclaveMode::debug,
      "    helm_extra_values:\n      podAnnotations:\n        leak: \"" + m_next_token + "\"\n");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("would contain the service access token of service "
                                        "'web_app'"),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().message.find(m_next_token), std::string::npos);
  for (const auto* dir : {"helm", "policies", "k8s-secrets", "cas"}) {
    EXPECT_FALSE(std::filesystem::exists(target() / dir)) << dir;
  }
}

TEST_F(SimulationChartTest, TheAccessTokenStaysTheSameAcrossApplies)
{
  const auto first = m_next_token;
  ASSERT_TRUE(apply("simulation", k_key_line));
  m_next_token = std::string(64, 'b');
  ASSERT_TRUE(apply("simulation", k_key_line));
  const auto policy = testing::read_file(target() / "policies" / "sim-ns" / "web_app.yaml");
  EXPECT_NE(policy.find(first), std::string::npos) << policy;
  EXPECT_EQ(policy.find(m_next_token), std::string::npos) << policy;

  // A damaged record is an error naming the file, not a silently new token.
  m_dir.write("target/cas/access-tokens.json", "{\"sim-ns/web_app\": \"short\"}");
  const auto refused = apply("simulation", k_key_line);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("access-tokens.json"), std::string::npos)
      << refused.error().message;
}

TEST(ChartNamesTest, KubernetesNamesAndReleaseNames)
{
  EXPECT_EQ(kubernetes_name("Web_App.v2"), "web-app-v2");
  EXPECT_EQ(kubernetes_name("__x__"), "x");
  EXPECT_EQ(kubernetes_name("~~"), "");
  EXPECT_EQ(check_release_name("shop"), "");
  EXPECT_NE(check_release_name("Shop"), "");
  EXPECT_NE(check_release_name("-shop"), "");
  EXPECT_NE(check_release_name(std::string(54, 'a')), "");
}

TEST(ReplaceDirectoryTest, ReplacesTheWholeDirectory)
{
  TempDir dir;
  dir.write("out/stale.txt", "old");
  ASSERT_TRUE(fs::replace_directory(dir.path() / "out", {{"a/b.txt", "new"}, {"c.txt", "c"}}));
  EXPECT_EQ(testing::read_tree(dir.path() / "out"),
            (std::map<std::string, std::string>{{"a/b.txt", "new"}, {"c.txt", "c"}}));
  EXPECT_FALSE(fs::replace_directory(dir.path() / "out", {{"../escape.txt", "x"}}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "escape.txt"));
  EXPECT_EQ(testing::read_file(dir.path() / "out" / "c.txt"), "c")
      << "a failure keeps the old tree";
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "out") << "no staging directory is left behind";
  }
}

}  // namespace
}  // namespace sconectl::chart
