// Golden files for what `apply -f service.yaml` generates before calling docker: the Dockerfile
// and the build context. tests/golden/build/<case>/service.yaml ->
// expected/{Dockerfile,context.txt}. SCONECTL_UPDATE_GOLDEN=1 rewrites the expected files; review
// the diff.

#include "golden.hpp"
#include "manifest_text.hpp"
#include "sconectl/image/build_context.hpp"
#include "sconectl/image/dockerfile.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace sconectl::image {
namespace {

namespace stdfs = std::filesystem;

const stdfs::path k_golden = stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "golden" / "build";

class BuildGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BuildGoldenTest, GeneratesTheExpectedDockerfileAndContext)
{
  const auto dir = k_golden / GetParam();
  const auto report = manifest::read_manifest(
      dir / "service.yaml", manifest::LoadOptions{.variables = testing::variables()});
  ASSERT_TRUE(report.ok()) << testing::formatted(report);
  const auto& service = std::get<manifest::ServiceManifest>(*report.document);
  const auto plan =
      plan_dockerfile(service, service.build.from.value_or("registry.example.com/base/python:1"));
  ASSERT_TRUE(plan) << plan.error().message;
  const auto dockerfile = render_dockerfile(*plan);
  testing::compare_or_update(dir / "expected" / "Dockerfile", dockerfile);

  testing::TempDir target;
  const auto context = assemble_build_context(service, dockerfile, target.path() / "context");
  ASSERT_TRUE(context) << context.error().message;
  testing::compare_or_update(dir / "expected" / "context.txt", context_listing(*context));
  EXPECT_EQ(testing::read_file(target.path() / "context" / "Dockerfile"), dockerfile);
}

INSTANTIATE_TEST_SUITE_P(Golden,
                         BuildGoldenTest,
                         ::testing::ValuesIn(testing::golden_cases(k_golden)),
                         testing::case_test_name);

}  // namespace
}  // namespace sconectl::image
