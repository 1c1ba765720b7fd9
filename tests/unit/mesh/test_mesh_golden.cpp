// Golden files for what `apply -f mesh.yaml --dry-run -o yaml` writes: the CAS policies, the Helm
// chart and the rendered manifests. tests/golden/mesh/<case>/ holds mesh.yaml and the service
// manifests under services/ (hello-world links to examples/hello-world, so the example itself is
// pinned); the test records each service as `apply -f service.yaml` would (with made-up image ids,
// digests and measurements derived from the name), then generates the mesh and compares
// target/{policies,helm,manifests} with expected/.

#include "golden.hpp"
#include "mesh_fixture.hpp"
#include "sconectl/mesh/apply_mesh.hpp"

#include <gtest/gtest.h>

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

  const auto result =
      generate_mesh(mesh, MeshApplyOptions{.target_dir = target, .write_manifests = true});
  ASSERT_TRUE(result) << testing::diagnostics_text(result.error());
  std::map<std::string, std::string> actual;
  for (const auto* part : {"policies", "helm", "manifests"}) {
    for (const auto& [path, content] : testing::read_tree(target / part)) {
      actual[std::string(part) + "/" + path] = content;
    }
  }
  testing::compare_or_update_tree(dir / "expected", actual);
}

INSTANTIATE_TEST_SUITE_P(Golden,
                         MeshGoldenTest,
                         ::testing::ValuesIn(testing::golden_cases(k_golden)),
                         testing::case_test_name);

}  // namespace
}  // namespace sconectl::mesh
