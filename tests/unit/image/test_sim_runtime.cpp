// Where `apply --runtime sim` finds the runtime it copies into images: the variable, the installed
// layout, the build tree, in that order, and a usage error that says what to do.

#include "sconectl/image/sim_runtime.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace sconectl::image {
namespace {

namespace stdfs = std::filesystem;

const std::string k_from_bindir = "../libexec/sconectl/sconectl-runtime-sim";

manifest::VariableLookup no_variables()
{
  return [](std::string_view) { return std::optional<std::string>(); };
}

void touch(const stdfs::path& file)
{
  stdfs::create_directories(file.parent_path());
  std::ofstream(file) << "x";
}

TEST(SimRuntime, TheVariableComesFirst)
{
  const auto found = find_sim_runtime(
      [](std::string_view name) {
        return name == "SCONECTL_RUNTIME_SIM" ? std::optional<std::string>("/opt/rt")
                                              : std::nullopt;
      },
      k_from_bindir,
      "/nonexistent/bin/sconectl");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, stdfs::path("/opt/rt"));
}

TEST(SimRuntime, TheInstalledLayoutBeforeTheBuildTree)
{
  testing::TempDir dir;
  const auto sconectl = dir.path() / "usr" / "bin" / "sconectl";
  touch(sconectl);
  touch(dir.path() / "usr" / "bin" / "runtime" / "sconectl-runtime-sim");
  const auto installed = dir.path() / "usr" / "libexec" / "sconectl" / "sconectl-runtime-sim";
  touch(installed);
  const auto found = find_sim_runtime(no_variables(), k_from_bindir, sconectl);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, installed);
}

TEST(SimRuntime, TheBuildTreeBesideALinkedSconectl)
{
  testing::TempDir dir;
  const auto sconectl = dir.path() / "build" / "src" / "sconectl";
  touch(sconectl);
  const auto built = dir.path() / "build" / "src" / "runtime" / "sconectl-runtime-sim";
  touch(built);
  // As /proc/self/exe is: a link to the program.
  const auto link = dir.path() / "exe";
  stdfs::create_symlink(sconectl, link);
  const auto found = find_sim_runtime(no_variables(), k_from_bindir, link);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, built);
}

TEST(SimRuntime, NoneFoundIsAUsageErrorThatSaysWhatToDo)
{
  testing::TempDir dir;
  const auto sconectl = dir.path() / "bin" / "sconectl";
  touch(sconectl);
  const auto found = find_sim_runtime(no_variables(), k_from_bindir, sconectl);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::usage);
  EXPECT_NE(found.error().message.find((dir.path() / "libexec" / "sconectl").string()),
            std::string::npos)
      << found.error().message;
  EXPECT_NE(found.error().message.find("SCONECTL_RUNTIME_SIM"), std::string::npos);
}

}  // namespace
}  // namespace sconectl::image
