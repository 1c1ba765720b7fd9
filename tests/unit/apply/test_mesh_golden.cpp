// Golden files for what `apply -f mesh.yaml --dry-run -o yaml` writes: the CAS policies, the Helm
// chart and the rendered manifests. tests/golden/mesh/<case>/ holds mesh.yaml and the service
// manifests under services/ (hello-world links to examples/hello-world, so the example itself is
// pinned); the test records each service as `apply -f service.yaml` would (with made-up image ids,
// digests and measurements derived from the name), then generates the mesh and compares
// target/{policies,helm,manifests} with expected/.

#include "golden.hpp"
#include "mesh_fixture.hpp"
#include "sconectl/apply/apply_mesh.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace sconectl::mesh {
namespace {

namespace stdfs = std::filesystem;

const stdfs::path k_golden = stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "golden" / "mesh";

class MeshGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MeshGoldenTest, GeneratesTheExpectedPoliciesChartAndManifests)
{
  const auto dir = k_golden / GetParam();
  testing::TempDir work;
  const auto target = work.path() / "target";
  for (const auto& entry : stdfs::directory_iterator(dir / "services")) {
    if (entry.path().extension() == ".yaml"
        && testing::manifest_kind(entry.path()) == "genservice") {
      testing::record_service(entry.path(), target);
    }
  }
  const auto mesh = testing::load_mesh(dir / "mesh.yaml");

  const auto result = apply::generate_mesh(
      mesh, apply::MeshApplyOptions{.target_dir = target, .write_manifests = true});
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  std::map<std::string, std::string> actual;
  for (const auto* part : {"policies", "helm", "manifests"}) {
    for (const auto& [path, content] : testing::read_tree(target / part)) {
      actual[std::string(part) + "/" + path] = content;
    }
  }
  testing::compare_or_update_tree(dir / "expected", actual);
}

// Production never hands secrets to a debug enclave, even when the mesh asks for it.
TEST(MeshDebugModeTest, ProductionRefusesAToleratedDebugModeThatDebugModeAccepts)
{
  testing::TempDir work;
  const auto golden = k_golden / "hello-world";
  const auto target = work.path() / "target";
  testing::record_service(golden / "services" / "service.yaml", target);
  std::ifstream original(golden / "mesh.yaml");
  std::string text((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>());
  const std::string tolerated =
      "tolerate: \"${APP_TOLERATE:-outdated-tcb, software-hardening-needed}\"";
  ASSERT_NE(text.find(tolerated), std::string::npos);
  text.replace(text.find(tolerated), tolerated.size(), "tolerate: \"debug-mode, outdated-tcb\"");
  const auto mesh_file = work.write("mesh.yaml", text);
  const auto mesh = testing::load_mesh(mesh_file);

  const auto production = apply::generate_mesh(mesh, apply::MeshApplyOptions{.target_dir = target});
  ASSERT_FALSE(production);
  const auto diagnostics = testing::diagnostics_text(production.error());
  EXPECT_NE(diagnostics.find("mesh.yaml:16:"), std::string::npos) << diagnostics;
  EXPECT_NE(diagnostics.find("policy.tolerate"), std::string::npos) << diagnostics;
  EXPECT_FALSE(stdfs::exists(target / "policies"));

  const auto debug = apply::generate_mesh(
      mesh, apply::MeshApplyOptions{.target_dir = target, .mode = model::EnclaveMode::debug});
  ASSERT_TRUE(debug) << testing::diagnostics_text(debug.error());
}

INSTANTIATE_TEST_SUITE_P(Golden,
                         MeshGoldenTest,
                         ::testing::ValuesIn(testing::golden_cases(k_golden)),
                         testing::case_test_name);

}  // namespace
}  // namespace sconectl::mesh
