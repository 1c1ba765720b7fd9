// Manifests written as templates ($NAME variables read from the environment, no envsubst step)
// must validate cleanly when their variables are set. Two sets are checked: the repository's own
// (tests/data/templates, always present) and, when it is there, the public tutorial's, which this
// repository does not ship.

#include "sconectl/util/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace sconectl {
namespace {

namespace stdfs = std::filesystem;

Completed validate(const stdfs::path& dir, const std::string& file)
{
  PosixProcessRunner runner;
  auto result = runner.run(
      Command{.program = SCONECTL_BINARY,
              .args = {"validate", "--strict", "-f", file},
              .extra_env = {{"APP_IMAGE_REPO", "127.0.0.1:5000/demo"},
                            {"APP_TAG", "1"},
                            {"RELEASE", "pythonapp"},
                            {"APP_NAMESPACE", "pythonapp-12345-6789"},
                            {"CAS_URL", "cas.scone-system"},
                            {"CAS_KEY", "3Hkve6rTdWCmTC6UGzDKK8MmCo5NtX78nunoDqGdagdmRyM2dm"},
                            {"CAS_SESSION_ENCRYPTION_KEY", std::string(64, 'a')},
                            {"UPLOAD_MODE", "EncryptedManifest"}},
              .working_dir = dir,
              .timeout = std::chrono::seconds(20)});
  if (!result) {
    ADD_FAILURE() << result.error().message;
    return {};
  }
  return *result;
}

// The repository's own templates: the same features as the tutorial's (plain $VARS, CAS
// references, block scalars with indentation indicators, folded run commands, image_secrets).
const stdfs::path k_own_templates = stdfs::path(SCONECTL_SOURCE_DIR) / "tests/data/templates";

TEST(ManifestTemplatesTest, ServiceTemplateValidatesWithoutEnvsubst)
{
  ASSERT_TRUE(stdfs::exists(k_own_templates / "service.yaml.template")) << k_own_templates;
  const auto result = validate(k_own_templates, "service.yaml.template");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "service.yaml.template: valid genservice manifest\n");
}

TEST(ManifestTemplatesTest, MeshTemplateWithImageSecretsValidates)
{
  const auto result = validate(k_own_templates, "mesh.yaml.template");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "mesh.yaml.template: valid mesh manifest\n");
}

TEST(ManifestTemplatesTest, UnsetVariableIsReportedWithItsLine)
{
  PosixProcessRunner runner;
  auto result = runner.run(Command{.program = SCONECTL_BINARY,
                                   .args = {"validate", "--strict", "-f", "service.yaml.template"},
                                   .working_dir = k_own_templates,
                                   .timeout = std::chrono::seconds(20)});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_NE(result->err.find("service.yaml.template:"), std::string::npos) << result->err;
  EXPECT_NE(result->err.find("RELEASE"), std::string::npos) << result->err;
}

// The public tutorial's files live beside the repository when they are there at all. They are
// data this project does not ship, so their absence is a skip everywhere, CI included.
stdfs::path tutorial_fixtures_dir()
{
  if (const char* dir = std::getenv("SCONECTL_TUTORIAL_FIXTURES")) {
    return dir;
  }
  return stdfs::path(SCONECTL_SOURCE_DIR) / ".." / "shared" / "fixtures" / "hello-world";
}

class TutorialFixturesTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    if (!stdfs::exists(tutorial_fixtures_dir() / "service.yaml.template")) {
      GTEST_SKIP() << "the public tutorial's manifests are not in " << tutorial_fixtures_dir()
                   << " (they are not part of this repository; set SCONECTL_TUTORIAL_FIXTURES to "
                      "run these tests); tests/data/templates covers the same features";
    }
  }
};

TEST_F(TutorialFixturesTest, ServiceTemplateValidatesWithoutEnvsubst)
{
  const auto result = validate(tutorial_fixtures_dir(), "service.yaml.template");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "service.yaml.template: valid genservice manifest\n");
}

TEST_F(TutorialFixturesTest, MeshTemplateWithImageSecretsValidates)
{
  const auto result = validate(tutorial_fixtures_dir(), "mesh.yaml.template");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "mesh.yaml.template: valid mesh manifest\n");
}

}  // namespace
}  // namespace sconectl
