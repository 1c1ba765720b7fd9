#include "mesh_fixture.hpp"
#include "sconectl/apply/apply_service.hpp"
#include "sconectl/mesh/resolve.hpp"

#include <gtest/gtest.h>

namespace sconectl::mesh {
namespace {

using model::MetadataSource;
using model::ResolvedMesh;
using model::ResolvedService;
using testing::TempDir;

constexpr const char* k_service = R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: SCONE_HEAP
      value: 256M
    - name: PASSWORD
      value: "$$SCONE::password$$"
    - name: URL
      value: "https://{{HOST}}:{{PORT}}/{{namespace}}"
  global:
    - name: USER
    - name: COLOR
      value: blue
    - name: SIZE
      value: small
secrets:
  global:
    - name: password
      kind: ascii
      size: 12
    - name: fixed
      kind: ascii
      value: "explicit-value-123"
injection_files:
  - path: /app/app.conf
    content: "user={{USER}} color={{COLOR}}\n"
build:
  name: app
  kind: python
  to: registry.example.com/team/app:1
  pwd: /app
  command: python3 app.py
)";

std::string mesh_text(const std::string& env)
{
  return std::string(R"(apiVersion: scone/5.8
kind: mesh
cas:
  - name: cas
    cas_url: cas.example.com
    mode: NoUpload
policy:
  namespace: ns-1
)") + env + R"(
services:
  - name: app
    image: registry.example.com/team/app:1
)";
}

constexpr const char* k_env = R"(env:
  - service: global
    env:
      - name: USER
        value: global-user
      - name: COLOR
        value: green
      - name: SIZE
        value: large
      - name: HOST
        value: example.org
      - name: PORT
        value: 443
  - service: helm
    env:
      - name: COLOR
        value: red
  - service: app
    env:
      - name: SIZE
        value: medium
      - name: PASSWORD
        value: overridden
)";

class ResolveTest : public ::testing::Test {
 protected:
  Result<ResolvedMesh> resolve(const std::string& mesh,
                               ImageSource* images = nullptr,
                               bool record = true)
  {
    const auto service = m_dir.write("app/service.yaml", k_service);
    if (record) {
      testing::record_service(service, target());
    }
    const auto file = m_dir.write("mesh.yaml", mesh);
    m_mesh = testing::load_mesh(file);
    return resolve_mesh(m_mesh, ResolveOptions{.target_dir = target(), .images = images});
  }

  [[nodiscard]] std::filesystem::path target() const { return m_dir.path() / "target"; }

  TempDir m_dir;
  manifest::MeshManifest m_mesh;
};

TEST_F(ResolveTest, ServiceEntriesBeatHelmWhichBeatsGlobalWhichBeatsTheServiceDefault)
{
  const auto resolved = resolve(mesh_text(k_env));
  ASSERT_TRUE(resolved) << testing::diagnostics_text(resolved.error());
  ASSERT_EQ(resolved->services.size(), 1U);
  const auto& app = resolved->services.front();
  EXPECT_EQ(app.environment.at("USER"), "global-user");
  EXPECT_EQ(app.environment.at("COLOR"), "red");
  EXPECT_EQ(app.environment.at("SIZE"), "medium");
  EXPECT_EQ(app.environment.at("URL"), "https://example.org:443/ns-1");
  EXPECT_EQ(app.environment.at("PASSWORD"), "$$SCONE::password$$");
  EXPECT_EQ(app.environment.count("SCONE_HEAP"), 0U) << "runtime settings stay in the image";
  EXPECT_EQ(app.environment.count("HOST"), 0U) << "undeclared mesh values feed only the chart";
  EXPECT_EQ(app.settings.at("HOST"), "example.org");
  ASSERT_EQ(app.injection_files.size(), 1U);
  EXPECT_EQ(app.injection_files[0].content, "user=global-user color=red\n");
  EXPECT_EQ(app.session, "ns-1/app");
  EXPECT_EQ(app.measurement, testing::fake_hash("app measurement"));
  EXPECT_EQ(app.source, MetadataSource::descriptor);

  ASSERT_EQ(resolved->warnings.size(), 1U);
  EXPECT_NE(resolved->warnings[0].message.find("sets PASSWORD, but the service fixes it"),
            std::string::npos);
}

TEST_F(ResolveTest, AGlobalVariableWithoutAValueAnywhereIsAnErrorNamingServiceAndVariable)
{
  const auto resolved = resolve(mesh_text(R"(env:
  - service: global
    env:
      - name: HOST
        value: example.org
      - name: PORT
        value: 443
)"));
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("mesh.yaml:19:12: services[0]: the service's global variable USER has no "
                      "default and the mesh env sets it for neither 'global', 'helm' nor 'app'"),
            std::string::npos)
      << text;
  EXPECT_EQ(resolved.error().diagnostics.size(), 1U) << "its uses are not reported again:\n"
                                                     << text;
}

TEST_F(ResolveTest, AnUndefinedTemplateReferenceIsAnError)
{
  const auto resolved = resolve(mesh_text(R"(env:
  - service: global
    env:
      - name: USER
        value: me
)"));
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("environment.local URL refers to {{HOST, PORT}}"), std::string::npos) << text;
}

TEST_F(ResolveTest, WithoutDescriptorAndWithoutDockerTheErrorSaysWhatToRun)
{
  const auto resolved = resolve(mesh_text(k_env), nullptr, false);
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("no service descriptor in"), std::string::npos) << text;
  EXPECT_NE(text.find("run 'sconectl apply -f service.yaml -t"), std::string::npos) << text;
}

// Answers from a table instead of Docker.
class FakeImages final : public ImageSource {
 public:
  Result<std::optional<image::ImageInfo>> inspect(const std::string& reference, bool pull) override
  {
    pulls += pull ? 1 : 0;
    if (daemon_down) {
      return fail(ErrorKind::process, "cannot reach the Docker daemon");
    }
    const auto found = images.find(reference);
    if (found == images.end()) {
      return std::optional<image::ImageInfo>();
    }
    return std::optional<image::ImageInfo>(found->second);
  }
  Result<std::string> measure(const image::MeasureRequest& request) override
  {
    measured.push_back(request);
    return std::string(64, 'a');
  }
  Result<std::map<std::string, std::string>> local_image_ids(
      const std::vector<std::string>& references) override
  {
    asked_for = references;
    std::map<std::string, std::string> ids;
    for (const auto& [reference, info] : images) {
      ids[reference] = info.id;
    }
    return ids;
  }

  std::map<std::string, image::ImageInfo> images;
  std::vector<image::MeasureRequest> measured;
  std::vector<std::string> asked_for;
  int pulls = 0;
  bool daemon_down = false;
};

image::ImageInfo labelled_image(const manifest::ServiceManifest& service)
{
  return image::ImageInfo{
      .id = "sha256:" + std::string(64, '1'),
      .repo_digests = {"registry.example.com/team/other@sha256:" + std::string(64, '2'),
                       "registry.example.com/team/app@sha256:" + std::string(64, '3')},
      .labels = {{image::k_label_service,
                  manifest::service_metadata(service, manifest::Disclosure::public_only).dump()}},
      .env = {}};
}

TEST_F(ResolveTest, WithoutDescriptorTheImageLabelsAreReadAndTheImageIsMeasured)
{
  FakeImages images;
  const auto service_file = m_dir.write("app/service.yaml", k_service);
  auto service = testing::load_service(service_file);
  // Without the local values, the explicit secret and injection file, which labels never carry
  // (SCONE_HEAP stays: the runtime's own variables do not enter the policy's environment).
  service.local_environment.resize(1);
  service.secrets.pop_back();
  service.injection_files.clear();
  images.images["registry.example.com/team/app:1"] = labelled_image(service);

  const auto resolved = resolve(mesh_text(k_env), &images, false);
  ASSERT_TRUE(resolved) << testing::diagnostics_text(resolved.error());
  const auto& app = resolved->services.front();
  EXPECT_EQ(app.source, MetadataSource::image_labels);
  EXPECT_EQ(app.measurement, std::string(64, 'a'));
  EXPECT_EQ(app.measurement_method, "content");
  EXPECT_EQ(app.image_digest, "sha256:" + std::string(64, '3'));
  ASSERT_EQ(images.measured.size(), 1U);
  EXPECT_EQ(images.measured[0].pwd, "/app");
  EXPECT_EQ(images.measured[0].command, (std::vector<std::string>{"python3", "app.py"}));
  EXPECT_EQ(images.pulls, 1);
}

TEST_F(ResolveTest, LabelsWithoutTheExplicitSecretValuesAreRefused)
{
  FakeImages images;
  auto service = testing::load_service(m_dir.write("app/service.yaml", k_service));
  images.images["registry.example.com/team/app:1"] = labelled_image(service);
  const auto resolved = resolve(mesh_text(k_env), &images, false);
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("the explicit values of secrets fixed are not in labels of"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("the content of injection file /app/app.conf is not in"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("explicit-value-123"), std::string::npos);
}

TEST_F(ResolveTest, LabelsCarryNoEnvironmentValueAndTheMeshDoesNotGuessOne)
{
  FakeImages images;
  auto service = testing::load_service(m_dir.write("app/service.yaml", k_service));
  service.secrets.pop_back();
  service.injection_files.clear();
  const auto label = manifest::service_metadata(service, manifest::Disclosure::public_only).dump();
  for (const auto* value : {"256M", "$$SCONE::password$$", "{{HOST}}", "blue", "small"}) {
    EXPECT_EQ(label.find(value), std::string::npos) << value << " in " << label;
  }
  EXPECT_NE(label.find(R"({"has_value":true,"name":"PASSWORD"})"), std::string::npos) << label;
  images.images["registry.example.com/team/app:1"] = labelled_image(service);

  // The mesh sets COLOR and SIZE but not USER, whose default the label withholds.
  const auto resolved = resolve(mesh_text(R"(env:
  - service: global
    env:
      - name: USER
        value: global-user
      - name: HOST
        value: example.org
      - name: PORT
        value: 443
)"),
                                &images,
                                false);
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("the value of environment.local PASSWORD is not in labels of"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("the value of environment.local URL is not in labels of"), std::string::npos)
      << text;
  EXPECT_NE(text.find("the default of the service's global variable COLOR is not in labels of"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("environment.local SCONE_HEAP"), std::string::npos) << text;
}

TEST_F(ResolveTest, AnImageNotBuiltBySconectlIsRefused)
{
  FakeImages images;
  images.images["registry.example.com/team/app:1"] = image::ImageInfo{.id = "sha256:1"};
  const auto resolved = resolve(mesh_text(k_env), &images, false);
  ASSERT_FALSE(resolved);
  EXPECT_NE(testing::diagnostics_text(resolved.error()).find("it was not built by 'sconectl apply"),
            std::string::npos);
}

// Docker being down is no fault of the manifest: the run fails (exit 1), naming the service.
TEST_F(ResolveTest, ADockerFailureIsARuntimeFailureNotInvalidInput)
{
  FakeImages images;
  images.daemon_down = true;
  const auto resolved = resolve(mesh_text(k_env), &images, false);
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().kind, ErrorKind::process);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("services[0].image"), std::string::npos) << text;
  EXPECT_NE(text.find("cannot reach the Docker daemon"), std::string::npos) << text;
}

TEST_F(ResolveTest, ADescriptorOfAnotherImageThanTheLocalOneIsRefused)
{
  FakeImages images;
  images.images["registry.example.com/team/app:1"] = image::ImageInfo{.id = "sha256:rebuilt"};
  const auto resolved = resolve(mesh_text(k_env), &images);
  ASSERT_FALSE(resolved);
  const auto text = testing::diagnostics_text(resolved.error());
  EXPECT_NE(text.find("the local image registry.example.com/team/app:1 is sha256:rebuilt"),
            std::string::npos)
      << text;
  // Only the images that descriptors describe are looked up, all in one request.
  EXPECT_EQ(images.asked_for, std::vector<std::string>{"registry.example.com/team/app:1"});
}

}  // namespace
}  // namespace sconectl::mesh
