#include "sconectl/cas/attestation.hpp"
#include "sconectl/runtime/live_file_tree.hpp"
#include "sconectl/runtime/runtime.hpp"
#include "sconectl/util/digest.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::runtime {
namespace {

namespace stdfs = std::filesystem;
using sconectl::testing::TempDir;

void write(const stdfs::path& path, const std::string& content, stdfs::perms mode)
{
  stdfs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
  stdfs::permissions(path, mode);
}

// The same tree twice: on disk, and as the FileMap that `docker save` would give for it.
struct Tree {
  TempDir dir;
  std::string root = stdfs::canonical(dir.path()).string();
  model::FileMap map;

  void file(const std::string& relative, const std::string& content, std::uint32_t mode)
  {
    write(root + relative, content, static_cast<stdfs::perms>(mode));
    map[root + relative] = model::FileEntry{.type = model::FileEntry::Type::file,
                                            .mode = mode,
                                            .size = content.size(),
                                            .sha256 = to_hex(sha256(content))};
    add_parents(relative);
  }
  void link(const std::string& relative, const std::string& target)
  {
    stdfs::create_symlink(target, root + relative);
    map[root + relative] = model::FileEntry{
        .type = model::FileEntry::Type::symlink, .mode = 0777, .link_target = target};
  }
  void add_parents(const std::string& relative)
  {
    for (auto at = relative.rfind('/'); at != 0 && at != std::string::npos;
         at = relative.rfind('/', at - 1)) {
      const auto parent = root + relative.substr(0, at);
      ::chmod(parent.c_str(), 0755);
      map[parent] = model::FileEntry{.type = model::FileEntry::Type::directory, .mode = 0755};
    }
    // The temporary directory's own ancestors, as the image has them.
    for (auto path = stdfs::path(root); path != path.root_path(); path = path.parent_path()) {
      struct stat info {};
      ::lstat(path.c_str(), &info);
      map[path.string()] =
          model::FileEntry{.type = model::FileEntry::Type::directory,
                           .mode = static_cast<std::uint32_t>(info.st_mode & 07777)};
    }
  }
};

TEST(LiveFileTreeTest, MeasuresExactlyLikeTheImageListing)
{
  Tree tree;
  tree.file("/usr/bin/python3.11", "ELF python", 0755);
  tree.link("/usr/bin/python3", "python3.11");
  tree.file("/app/greet.py", "print('hi')\n", 0644);
  tree.file("/app/lib/util.py", "x = 1\n", 0600);
  tree.file("/app/conf/injected", "written after attestation", 0600);
  tree.file("/opt/rt", "runtime binary", 0755);
  const model::MeasurementInput input{.command = {"python3", "greet.py"},
                                      .pwd = tree.root + "/app",
                                      .search_path = tree.root + "/usr/bin",
                                      .runtime = tree.root + "/opt/rt",
                                      .not_measured = {tree.root + "/app/conf/injected"}};
  const auto live = model::measure_content(LiveFileTree(), input);
  const auto image = model::measure_content(model::FileMapView(tree.map), input);
  ASSERT_TRUE(live) << live.error().message;
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(live->listing, image->listing);
  EXPECT_EQ(live->value, image->value);
  // What runs is the file the link leads to, the one that was measured.
  EXPECT_EQ(live->program, tree.root + "/usr/bin/python3.11");
  EXPECT_TRUE(live->listing.starts_with("sconectl-content-measurement-v2\n"));
  EXPECT_NE(live->listing.find(tree.root + "/opt/rt\""), std::string::npos);
  EXPECT_EQ(live->listing.find("injected"), std::string::npos);

  // A changed program, a changed runtime, a new file under pwd: each changes the measurement.
  write(tree.root + "/app/greet.py", "print('evil')\n", stdfs::perms(0644));
  EXPECT_NE(model::measure_content(LiveFileTree(), input)->value, live->value);
  write(tree.root + "/app/greet.py", "print('hi')\n", stdfs::perms(0644));
  EXPECT_EQ(model::measure_content(LiveFileTree(), input)->value, live->value);
  write(tree.root + "/opt/rt", "another runtime", stdfs::perms(0755));
  EXPECT_NE(model::measure_content(LiveFileTree(), input)->value, live->value);
}

TEST(RuntimeArgumentsTest, EntrypointArgumentsAndHostArguments)
{
  const auto parsed = parse_arguments({"--program",
                                       "python3",
                                       "--pwd",
                                       "/app",
                                       "--not-measured",
                                       "/run/x",
                                       "--",
                                       "first",
                                       "--program"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->measured.program, "python3");
  EXPECT_EQ(parsed->measured.not_measured, std::vector<std::string>{"/run/x"});
  EXPECT_EQ(parsed->host_arguments, (std::vector<std::string>{"first", "--program"}));
  EXPECT_FALSE(parse_arguments({"--pwd", "/app"}));
  EXPECT_FALSE(parse_arguments({"--program", "x", "--pwd", "relative"}));
  const auto root = parse_arguments({"--program", "x", "--pwd", "/"});
  ASSERT_FALSE(root);
  EXPECT_NE(root.error().message.find("/proc"), std::string::npos);
}

TEST(StartSettingsTest, EveryMissingSettingIsNamedAndAPinIsRequired)
{
  const auto none = read_start_settings({});
  ASSERT_FALSE(none);
  for (const auto* name : {"SCONE_CONFIG_ID", "SCONE_CAS_ADDR", "SCONE_CAS_KEY"}) {
    EXPECT_NE(none.error().message.find(name), std::string::npos) << none.error().message;
  }
  const auto bad_key = read_start_settings({{"SCONE_CONFIG_ID", "ns/session/service"},
                                            {"SCONE_CAS_ADDR", "127.0.0.1:8081"},
                                            {"SCONE_CAS_KEY", "not-a-key"}});
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().message.find("SCONE_CAS_KEY:"), std::string::npos);
}

cas::ProgramConfiguration configuration_for(const std::string& program, const std::string& pwd)
{
  return cas::ProgramConfiguration{
      .command = {program, "@@2", "fixed", "@@1"},
      .environment = {{"API_USER", "myself"}, {"API_PASSWORD", "from-cas"}},
      .host_environment = {"LANG", "MISSING", "API_PASSWORD"},
      .pwd = pwd};
}

TEST(PlanLaunchTest, TheSessionDecidesEnvironmentAndArguments)
{
  Tree tree;
  tree.file("/bin/prog", "x", 0755);
  tree.file("/app/a", "y", 0644);
  RuntimeArguments arguments{.measured = {.program = "prog", .pwd = tree.root + "/app"},
                             .host_arguments = {"one", "two", "three"}};
  const auto plan = plan_launch(configuration_for("prog", tree.root + "/app"),
                                arguments,
                                {{"LANG", "C.UTF-8"},
                                 {"API_USER", "incorrect_user"},
                                 {"API_PASSWORD", "incorrect_pw"},
                                 {"OTHER", "dropped"}},
                                tree.root + "/bin/prog");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->executable, tree.root + "/bin/prog");
  EXPECT_EQ(plan->argv, (std::vector<std::string>{"prog", "two", "fixed", "one"}));
  EXPECT_EQ(plan->envp,
            (std::vector<std::string>{"API_PASSWORD=from-cas", "API_USER=myself", "LANG=C.UTF-8"}));

  arguments.host_arguments = {"only"};
  EXPECT_FALSE(plan_launch(
      configuration_for("prog", tree.root + "/app"), arguments, {}, tree.root + "/bin/prog"));
}

TEST(PlanLaunchTest, ASessionForAnotherProgramOrDirectoryIsRefused)
{
  Tree tree;
  tree.file("/bin/prog", "x", 0755);
  tree.file("/bin/sh", "x", 0755);
  tree.file("/app/a", "y", 0644);
  const RuntimeArguments arguments{.measured = {.program = "prog", .pwd = tree.root + "/app"}};
  EXPECT_FALSE(plan_launch(
      configuration_for("sh", tree.root + "/app"), arguments, {}, tree.root + "/bin/sh"));
  EXPECT_FALSE(
      plan_launch(configuration_for("prog", tree.root), arguments, {}, tree.root + "/bin/prog"));
}

TEST(PlanLaunchTest, WithoutAPwdTheProgramStartsInTheMeasuredWorkingDirectory)
{
  Tree tree;
  tree.file("/bin/prog", "x", 0755);
  tree.file("/app/a", "y", 0644);
  const RuntimeArguments arguments{.measured = {.program = "prog", .pwd = tree.root + "/app"},
                                   .host_arguments = {"one", "two"}};
  const auto plan =
      plan_launch(configuration_for("prog", ""), arguments, {}, tree.root + "/bin/prog");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->pwd, tree.root + "/app");
}

TEST(InjectionFilesTest, WrittenPrivatelyAndOnlyIntoMemory)
{
  if (!stdfs::is_directory("/dev/shm")) {
    GTEST_SKIP() << "no /dev/shm (tmpfs) on this machine";
  }
  TempDir disk;
  const auto on_disk = stdfs::canonical(disk.path()).string() + "/conf/file";
  const auto refused = write_injection_files({{on_disk, "secret"}}, false);
  if (refused) {
    GTEST_SKIP() << "the temporary directory is memory-backed here";
  }
  EXPECT_NE(refused.error().message.find("not memory-backed"), std::string::npos);
  EXPECT_FALSE(stdfs::exists(on_disk));
  ASSERT_TRUE(write_injection_files({{on_disk, "secret"}}, true));
  EXPECT_EQ(stdfs::status(on_disk).permissions(), stdfs::perms(0600));

  const auto in_memory = "/dev/shm/sconectl-test-" + std::to_string(::getpid()) + "/file";
  ASSERT_TRUE(write_injection_files({{in_memory, "secret"}}, false));
  std::ifstream in(in_memory);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "secret");
  EXPECT_EQ(stdfs::status(in_memory).permissions(), stdfs::perms(0600));
  stdfs::remove_all(stdfs::path(in_memory).parent_path());
}

TEST(InjectionFilesTest, EachFileGetsTheModeTheSessionGives)
{
  if (!stdfs::is_directory("/dev/shm")) {
    GTEST_SKIP() << "no /dev/shm (tmpfs) on this machine";
  }
  const auto dir = "/dev/shm/sconectl-mode-" + std::to_string(::getpid());
  const auto old_mask = ::umask(077);  // the mode is the session's, whatever the umask says
  const auto written =
      write_injection_files({{dir + "/a", "x", 0640}, {dir + "/b", "y", 0500}}, false);
  ::umask(old_mask);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(stdfs::status(dir + "/a").permissions(), stdfs::perms(0640));
  EXPECT_EQ(stdfs::status(dir + "/b").permissions(), stdfs::perms(0500));
  stdfs::remove_all(dir);
}

// A configuration that asks for something this runtime does not know is not run with it dropped.
TEST(ConfigurationTest, WhatTheRuntimeCannotHonourStopsItByName)
{
  cas::ProgramConfiguration configuration{.command = {"python3"}, .pwd = "/app"};
  configuration.injection_files.push_back({"/run/a", "x", 0600});
  auto json = cas::to_json(configuration);
  ASSERT_TRUE(cas::program_configuration_from_json(json));
  auto with_volumes = json;
  with_volumes["volumes"] = nlohmann::json::array({"data"});
  const auto refused = cas::program_configuration_from_json(with_volumes);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot honour"), std::string::npos);
  EXPECT_NE(refused.error().message.find("'volumes'"), std::string::npos)
      << refused.error().message;
  auto with_template = json;
  with_template["injection_files"][0]["template"] = true;
  EXPECT_FALSE(cas::program_configuration_from_json(with_template));
}

// A program started non-dumpable gets AT_SECURE, and its C library drops these: the runtime then
// keeps it dumpable, so the program sees the environment its session gives.
TEST(RunTest, VariablesASecureStartWouldHideAreFound)
{
  EXPECT_EQ(hidden_from_secure_start({"API_USER=me", "LD_LIBRARY_PATH=/opt/lib"}),
            "LD_LIBRARY_PATH");
  EXPECT_EQ(hidden_from_secure_start({"TMPDIR=/scratch"}), "TMPDIR");
  EXPECT_EQ(hidden_from_secure_start({"MALLOC_ARENA_MAX=2"}), "MALLOC_ARENA_MAX");
  EXPECT_EQ(hidden_from_secure_start({"SSL_CERT_FILE=/etc/ca.pem"}), "SSL_CERT_FILE");
  EXPECT_EQ(hidden_from_secure_start({"API_PASSWORD=LD_PRELOAD", "PATH=/bin", "LDAP_URI=x"}),
            std::nullopt);
  EXPECT_EQ(hidden_from_secure_start({}), std::nullopt);
}

TEST(RunTest, WithoutAPinNothingIsAttempted)
{
  std::ostringstream out;
  std::ostringstream err;
  const int code = run({"--program", "prog", "--pwd", "/app"},
                       {{"SCONE_CONFIG_ID", "a/b/c"}, {"SCONE_CAS_ADDR", "127.0.0.1:1"}},
                       out,
                       err);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.str().find("SIMULATION: no SGX"), std::string::npos);
  EXPECT_NE(err.str().find("SCONE_CAS_KEY is not set"), std::string::npos);
  EXPECT_EQ(err.str().find("Connecting to CAS"), std::string::npos);
}

// A write to a connection the CAS closed must be an error the runtime reports, not a SIGPIPE
// that kills it without a word; and the program it starts gets SIGPIPE as the runtime got it.
TEST(IgnoreBrokenPipeTest, AWriteToAClosedPipeIsAnErrorAndTheDispositionComesBack)
{
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &before), 0);
  {
    const IgnoreBrokenPipe guard;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    errno = 0;
    EXPECT_EQ(::write(fds[1], "x", 1), -1);  // without the guard, SIGPIPE ends this test binary
    EXPECT_EQ(errno, EPIPE);
    ::close(fds[1]);
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace sconectl::runtime
