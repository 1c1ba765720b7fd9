#include "manifest_text.hpp"
#include "sconectl/image/build_context.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace sconectl::image {
namespace {

namespace stdfs = std::filesystem;
using testing::TempDir;

manifest::ServiceManifest service_in(const TempDir& dir, const std::string& build_extra)
{
  const auto path =
      dir.write("src/service.yaml", std::string(testing::k_minimal_service) + build_extra);
  const auto report =
      manifest::read_manifest(path, manifest::LoadOptions{.variables = testing::variables()});
  EXPECT_TRUE(report.ok()) << testing::formatted(report);
  return std::get<manifest::ServiceManifest>(*report.document);
}

std::vector<std::string> files_below(const stdfs::path& root)
{
  std::vector<std::string> names;
  for (const auto& entry : stdfs::recursive_directory_iterator(root)) {
    names.push_back(stdfs::relative(entry.path(), root).generic_string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(BuildContextTest, ContainsOnlyTheNamedFilesWithTheirLayout)
{
  TempDir dir;
  dir.write("src/hello.py", "print(1)\n");
  dir.write("src/pkg/mod.py", "x = 1\n");
  dir.write("src/secret-notes.txt", "do not ship\n");
  dir.write("src/reqs.txt", "\n");
  const auto service = service_in(dir, "  requirements: reqs.txt\n  copy: [hello.py, pkg/]\n");
  const auto context = assemble_build_context(service, "FROM x\n", dir.path() / "target" / "ctx");
  ASSERT_TRUE(context) << context.error().message;
  EXPECT_EQ(
      files_below(dir.path() / "target" / "ctx"),
      (std::vector<std::string>{
          "Dockerfile", "app", "app/hello.py", "app/pkg", "app/pkg/mod.py", "requirements.txt"}));
}

TEST(BuildContextTest, NormalisesModesSoTheContextIsReproducible)
{
  TempDir dir;
  const auto script = dir.write("src/run.sh", "#!/bin/sh\n");
  stdfs::permissions(script, stdfs::perms::owner_all | stdfs::perms::group_read);
  dir.write("src/data.txt", "x");
  const auto service = service_in(dir, "  copy: [run.sh, data.txt]\n");
  const auto context = assemble_build_context(service, "FROM x\n", dir.path() / "ctx");
  ASSERT_TRUE(context);
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "ctx" / "app" / "run.sh").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755U);
  ASSERT_EQ(::stat((dir.path() / "ctx" / "app" / "data.txt").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644U);
  EXPECT_EQ(info.st_mtime, 946684800);
}

TEST(BuildContextTest, ReplacesAnOldContextWhole)
{
  TempDir dir;
  dir.write("src/a.py", "a");
  dir.write("src/b.py", "b");
  const auto target = dir.path() / "ctx";
  ASSERT_TRUE(
      assemble_build_context(service_in(dir, "  copy: [a.py, b.py]\n"), "FROM x\n", target));
  ASSERT_TRUE(assemble_build_context(service_in(dir, "  copy: [a.py]\n"), "FROM x\n", target));
  EXPECT_EQ(files_below(target), (std::vector<std::string>{"Dockerfile", "app", "app/a.py"}));
  EXPECT_EQ(files_below(dir.path()).size(), files_below(dir.path() / "src").size() + 5)
      << "no staging or old directories are left behind";
}

TEST(BuildContextTest, ReportsMissingFilesAndEscapes)
{
  TempDir dir;
  const auto missing = assemble_build_context(
      service_in(dir, "  copy: [nope.py]\n"), "FROM x\n", dir.path() / "ctx");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "build.copy[0]: 'nope.py' does not exist in " + (dir.path() / "src").string());
  EXPECT_FALSE(stdfs::exists(dir.path() / "ctx"));

  // Validation refuses such a link too; here it appears after the manifest was read.
  dir.write("outside.txt", "secret");
  dir.write("src/link.txt", "inside for now");
  const auto manifest = service_in(dir, "  copy: [link.txt]\n");
  stdfs::remove(dir.path() / "src" / "link.txt");
  stdfs::create_symlink(dir.path() / "outside.txt", dir.path() / "src" / "link.txt");
  const auto escaped = assemble_build_context(manifest, "FROM x\n", dir.path() / "ctx");
  ASSERT_FALSE(escaped);
  EXPECT_EQ(
      escaped.error().message,
      "build.copy[0]: 'link.txt' must be a relative path inside " + (dir.path() / "src").string());
}

TEST(BuildContextTest, RefusesSymbolicLinkLoops)
{
  TempDir dir;
  dir.write("src/tree/file.py", "x");
  stdfs::create_directory_symlink("..", dir.path() / "src" / "tree" / "up");
  const auto result =
      assemble_build_context(service_in(dir, "  copy: [tree]\n"), "FROM x\n", dir.path() / "ctx");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("symbolic link loop"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace sconectl::image
