#include "fake_process_runner.hpp"
#include "image_archive.hpp"
#include "manifest_text.hpp"
#include "sconectl/apply/apply_service.hpp"
#include "sconectl/util/digest.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace sconectl::apply {
namespace {

using image::DockerCli;  // the Docker side the apply drives
using image::k_label_input_digest;
using image::Measurer;
using image::read_descriptor;

namespace stdfs = std::filesystem;
using testing::FakeProcessRunner;
using testing::TempDir;

// A stand-in Docker engine: images with labels, builds that record the context's program, saves
// that write a matching archive, pushes that answer with a digest.
class FakeDocker {
 public:
  FakeDocker()
  {
    images["registry.example.com/base/python:1"] = {"sha256:base", {}, ""};
    runner.on(FakeProcessRunner::args_start_with({"version"}),
              FakeProcessRunner::reply(0, "20.10.24\n"));
    runner.on(
        FakeProcessRunner::args_start_with({"image", "inspect"}), [this](const Command& command) {
          const auto found = images.find(command.args.back());
          if (found == images.end()) {
            return Completed{.exit_code = 1, .err = "Error: No such image: " + command.args.back()};
          }
          nlohmann::json labels = found->second.labels;
          return Completed{
              .out = nlohmann::json{{"Id", found->second.id},
                                    {"Config", {{"Labels", labels}, {"Env", {"PATH=/usr/bin"}}}}}
                         .dump()};
        });
    runner.on(FakeProcessRunner::args_start_with({"build"}), [this](const Command& command) {
      const auto& args = command.args;
      std::map<std::string, std::string> labels;
      for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--label") {
          const auto& pair = args[i + 1];
          labels[pair.substr(0, pair.find('='))] = pair.substr(pair.find('=') + 1);
        }
      }
      const auto program = testing::read_file(stdfs::path(args.back()) / "app" / "greet.py");
      const auto tag = args[4];
      images[tag] = {
          "sha256:" + to_hex(sha256(program + labels.at(k_label_input_digest))), labels, program};
      return Completed{.out = "Step 1/1 : FROM x\n"};
    });
    runner.on(FakeProcessRunner::args_start_with({"save"}), [this](const Command& command) {
      const auto& image = images.at(command.args.back());
      testing::write_saved_image(command.args[2],
                                 {{testing::file("usr/bin/python3", "ELF", 0755),
                                   testing::directory("app"),
                                   testing::file("app/greet.py", image.program)}});
      return Completed{};
    });
    runner.on(FakeProcessRunner::args_start_with({"push"}), [](const Command& command) {
      return Completed{.out = "1: digest: sha256:" + to_hex(sha256(command.args.back()))
                              + " size: 1\n"};
    });
  }

  struct Image {
    std::string id;
    std::map<std::string, std::string> labels;
    std::string program;
  };
  std::map<std::string, Image> images;
  FakeProcessRunner runner;
};

class ApplyServiceTest : public ::testing::Test {
 protected:
  manifest::ServiceManifest service(const std::string& program)
  {
    dir.write("src/greet.py", program);
    const auto path = dir.write("src/service.yaml", R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: API_PASSWORD
      value: "$$SCONE::pw$$"
    - name: DB_PASS
      value: LOCAL-TOPSECRET
  global:
    - name: REGION
      value: GLOBAL-TOPSECRET
secrets:
  global:
    - name: pw
      kind: ascii
      value: TOPSECRET-VALUE
injection_files:
  - path: /etc/app.conf
    content: INJECTED-TOPSECRET
build:
  name: hello
  kind: python
  from: registry.example.com/base/python:1
  to: registry.example.com/demo/hello:1
  pwd: /app
  command: python3 greet.py
  copy: [greet.py]
)");
    const auto report =
        manifest::read_manifest(path, manifest::LoadOptions{.variables = testing::variables()});
    EXPECT_TRUE(report.ok()) << testing::formatted(report);
    return std::get<manifest::ServiceManifest>(*report.document);
  }

  Result<ServiceApplyResult> apply(const manifest::ServiceManifest& manifest,
                                   ServiceApplyOptions options = {})
  {
    options.target_dir = dir.path() / "target";
    DockerCli cli(docker.runner);
    return apply_service(manifest, options, cli);
  }

  TempDir dir;
  FakeDocker docker;
};

TEST_F(ApplyServiceTest, BuildsMeasuresPushesAndRecords)
{
  const auto result = apply(service("print('hi')\n"));
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_FALSE(result->up_to_date);
  const auto& descriptor = result->descriptor;
  EXPECT_EQ(descriptor.measurement_method, "content");
  EXPECT_EQ(descriptor.measurement.size(), 64U);
  EXPECT_EQ(descriptor.image_digest,
            "sha256:" + to_hex(sha256("registry.example.com/demo/hello:1")));
  EXPECT_EQ(descriptor.mode, "production");
  const auto written = read_descriptor(dir.path() / "target", "hello");
  ASSERT_TRUE(written);
  EXPECT_EQ(written->measurement, descriptor.measurement);
  EXPECT_EQ(written->service["secrets"][0]["value"], "TOPSECRET-VALUE");
  EXPECT_EQ(docker.runner.matching({"build"}).size(), 1U);
  EXPECT_EQ(docker.runner.matching({"push"}).size(), 1U);
}

TEST_F(ApplyServiceTest, NoExplicitSecretReachesTheImageLabelsOrContext)
{
  ASSERT_TRUE(apply(service("print('hi')\n")));
  for (const auto& command : docker.runner.matching({"build"})) {
    for (const auto& arg : command.args) {
      EXPECT_EQ(arg.find("TOPSECRET"), std::string::npos) << arg;
    }
  }
  for (const auto& entry : stdfs::recursive_directory_iterator(dir.path() / "target" / "build")) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(testing::read_file(entry.path()).find("TOPSECRET"), std::string::npos)
          << entry.path();
    }
  }
}

// target/build may be a link to a directory elsewhere: the link is replaced by a directory of
// its own, and nothing the link points to is moved or deleted.
TEST_F(ApplyServiceTest, ASymlinkedBuildDirectoryIsReplacedNeverFollowed)
{
  const auto elsewhere = dir.path() / "elsewhere";
  dir.write("elsewhere/hello/keep.txt", "outside the target directory\n");
  dir.write("elsewhere/hello.old/keep.txt", "outside the target directory too\n");
  stdfs::create_directories(dir.path() / "target");
  stdfs::create_directory_symlink(elsewhere, dir.path() / "target" / "build");

  const auto result = apply(service("print('hi')\n"));
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_EQ(testing::read_file(elsewhere / "hello" / "keep.txt"), "outside the target directory\n");
  EXPECT_EQ(testing::read_file(elsewhere / "hello.old" / "keep.txt"),
            "outside the target directory too\n");
  EXPECT_EQ(std::distance(stdfs::directory_iterator(elsewhere), stdfs::directory_iterator()), 2);
  EXPECT_FALSE(stdfs::is_symlink(dir.path() / "target" / "build"));
  EXPECT_TRUE(stdfs::is_regular_file(dir.path() / "target" / "build" / "hello" / "Dockerfile"));
}

// The same for target/services, which holds explicit secret values.
TEST_F(ApplyServiceTest, ASymlinkedServicesDirectoryIsReplacedNeverFollowed)
{
  const auto elsewhere = dir.path() / "elsewhere";
  dir.write("elsewhere/hello.json", "outside\n");
  stdfs::create_directories(dir.path() / "target");
  stdfs::create_directory_symlink(elsewhere, dir.path() / "target" / "services");

  const auto result = apply(service("print('hi')\n"));
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_EQ(testing::read_file(elsewhere / "hello.json"), "outside\n");
  EXPECT_EQ(std::distance(stdfs::directory_iterator(elsewhere), stdfs::directory_iterator()), 1);
  EXPECT_FALSE(stdfs::is_symlink(dir.path() / "target" / "services"));
  EXPECT_TRUE(read_descriptor(dir.path() / "target", "hello"));
}

TEST_F(ApplyServiceTest, AnUnchangedSecondApplyBuildsNothing)
{
  const auto manifest = service("print('hi')\n");
  const auto first = apply(manifest);
  ASSERT_TRUE(first);
  docker.runner.commands.clear();
  const auto second = apply(manifest, {.push = Push::no});
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(second->up_to_date);
  EXPECT_TRUE(docker.runner.matching({"build"}).empty());
  EXPECT_TRUE(docker.runner.matching({"save"}).empty()) << "the measurement is reused";
  EXPECT_TRUE(docker.runner.matching({"push"}).empty());
  EXPECT_EQ(second->descriptor.measurement, first->descriptor.measurement);
  EXPECT_EQ(second->descriptor.image_digest, first->descriptor.image_digest);
}

// Lookups as the Engine API answers them: the local images from FakeDocker, and what the
// registry holds per reference (GET /distribution/<reference>/json).
class EngineLookup final : public image::ImageLookup {
 public:
  EngineLookup(FakeDocker& docker, std::map<std::string, std::string>& registry, int& prepared)
      : m_docker(docker), m_registry(registry), m_prepared(prepared)
  {
  }
  Result<std::string> server_version() override { return std::string("20.10.24"); }
  Result<std::optional<image::ImageInfo>> inspect(const std::string& reference) override
  {
    const auto found = m_docker.images.find(reference);
    if (found == m_docker.images.end()) {
      return std::optional<image::ImageInfo>{};
    }
    return std::optional<image::ImageInfo>(image::ImageInfo{
        .id = found->second.id, .labels = found->second.labels, .env = {"PATH=/usr/bin"}});
  }
  Result<std::map<std::string, std::string>> image_ids() override { return {}; }
  std::optional<std::string> registry_digest(const std::string& reference) override
  {
    ++asked;
    const auto found = m_registry.find(reference);
    return found == m_registry.end() ? std::nullopt : std::optional(found->second);
  }
  void prepare_registry_digest() override { ++m_prepared; }
  int asked = 0;

 private:
  FakeDocker& m_docker;
  std::map<std::string, std::string>& m_registry;
  int& m_prepared;
};

TEST_F(ApplyServiceTest, AnUnchangedApplyDoesNotPushWhatTheRegistryHolds)
{
  const auto manifest = service("print('hi')\n");
  std::map<std::string, std::string> registry;
  int prepared = 0;
  const auto apply_through_engine = [&](Push push = Push::yes) {
    ServiceApplyOptions options{.target_dir = dir.path() / "target", .push = push};
    DockerCli cli(docker.runner);
    cli.look_up_through(std::make_unique<EngineLookup>(docker, registry, prepared));
    return apply_service(manifest, options, cli);
  };
  const auto first = apply_through_engine();
  ASSERT_TRUE(first) << first.error().describe();
  ASSERT_EQ(docker.runner.matching({"push"}).size(), 1U);
  const auto pushed = first->descriptor.image_digest;
  ASSERT_TRUE(pushed);
  const auto reference = first->descriptor.image_reference;

  // The registry holds the recorded digest: nothing to push.
  registry[reference] = *pushed;
  const auto second = apply_through_engine();
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(docker.runner.matching({"push"}).size(), 1U);
  EXPECT_EQ(second->descriptor.image_digest, pushed);

  // Deleted from the registry behind our back, or the tag moved to another image: pushed again.
  registry.erase(reference);
  ASSERT_TRUE(apply_through_engine());
  EXPECT_EQ(docker.runner.matching({"push"}).size(), 2U);
  registry[reference] = "sha256:" + std::string(64, 'e');
  const auto moved = apply_through_engine();
  ASSERT_TRUE(moved);
  EXPECT_EQ(docker.runner.matching({"push"}).size(), 3U);
  EXPECT_EQ(moved->descriptor.image_digest, pushed);
  // Each apply with push had the lookup prepare the registry check (libcurl loads meanwhile);
  // one without push does not.
  EXPECT_EQ(prepared, 4);
  ASSERT_TRUE(apply_through_engine(Push::no));
  EXPECT_EQ(prepared, 4);
}

TEST_F(ApplyServiceTest, AChangedProgramChangesTheMeasurement)
{
  const auto first = apply(service("print('hi')\n"));
  const auto second = apply(service("print('changed')\n"));
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(second->up_to_date);
  EXPECT_NE(first->descriptor.measurement, second->descriptor.measurement);
  EXPECT_NE(first->descriptor.input_digest, second->descriptor.input_digest);
}

TEST_F(ApplyServiceTest, ForceRebuildsAndNoPushDoesNotPush)
{
  const auto manifest = service("print('hi')\n");
  ASSERT_TRUE(apply(manifest, {.push = Push::no}));
  ASSERT_TRUE(apply(manifest, {.push = Push::no, .rebuild = Rebuild::always}));
  EXPECT_EQ(docker.runner.matching({"build"}).size(), 2U);
  EXPECT_TRUE(docker.runner.matching({"push"}).empty());
}

TEST_F(ApplyServiceTest, AMissingBaseImageIsPulledOrExplained)
{
  docker.images.erase("registry.example.com/base/python:1");
  docker.runner.on(
      FakeProcessRunner::args_start_with({"pull"}),
      FakeProcessRunner::reply(1, "", "Error response from daemon: manifest unknown\n"));
  const auto result = apply(service("print('hi')\n"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().describe(),
            "base image registry.example.com/base/python:1 is not available locally; build or load "
            "it, or pick another with --base-image or build.from: docker pull "
            "registry.example.com/base/python:1 failed (exit code 1): Error response from daemon: "
            "manifest unknown");
}

TEST_F(ApplyServiceTest, TheSimulationRuntimeRefusesToMeasureTheWholeFileSystem)
{
  auto manifest = service("print('hi')\n");
  manifest.build.pwd = "/";
  const auto runtime = dir.write("sconectl-runtime-sim", "runtime binary");
  const auto result = apply(manifest, {.sim_runtime = runtime});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::manifest);
  EXPECT_NE(result.error().message.find("build.pwd"), std::string::npos) << result.error().message;
  EXPECT_TRUE(docker.runner.matching({"build"}).empty());
}

TEST_F(ApplyServiceTest, SconeMeasurerNeedsTheSconeRuntime)
{
  docker.runner.on(FakeProcessRunner::args_start_with({"run"}),
                   FakeProcessRunner::reply(0, "hi\n"));
  const auto result = apply(service("print('hi')\n"), {.measurer = Measurer::scone});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("does not use the SCONE runtime"), std::string::npos);
  const auto run = docker.runner.matching({"run"});
  ASSERT_EQ(run.size(), 1U);
  EXPECT_EQ(run[0].args,
            (std::vector<std::string>{"run",
                                      "--rm",
                                      "--network",
                                      "none",
                                      "--entrypoint",
                                      "",
                                      "--env",
                                      "SCONE_HASH=1",
                                      "--env",
                                      "SCONE_NO_TIME_THREAD=1",
                                      "registry.example.com/demo/hello:1",
                                      "python3"}));
}

}  // namespace
}  // namespace sconectl::apply
