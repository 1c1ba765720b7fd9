#include "golden.hpp"
#include "sconectl/util/file_tree.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <sys/stat.h>

namespace sconectl::fs {
namespace {

using sconectl::testing::read_tree;
using sconectl::testing::TempDir;

const FileTree k_files = {{"a/b/one.yaml", "one"}, {"a/two.yaml", "two"}, {"three.txt", "3"}};

ino_t inode_of(const stdfs::path& path)
{
  struct stat status = {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_ino;
}

unsigned mode_of(const stdfs::path& path)
{
  struct stat status = {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_mode & 07777U;
}

TEST(ReplaceDirectoryTest, LeavesATreeThatAlreadyHoldsTheFilesUntouched)
{
  TempDir dir;
  const auto out = dir.path() / "out";
  ASSERT_TRUE(replace_directory(out, k_files));
  const auto directory = inode_of(out);
  const auto file = inode_of(out / "a" / "b" / "one.yaml");
  ASSERT_TRUE(replace_directory(out, k_files));
  EXPECT_EQ(inode_of(out), directory) << "an unchanged tree is not replaced";
  EXPECT_EQ(inode_of(out / "a" / "b" / "one.yaml"), file);
  EXPECT_EQ(read_tree(out), k_files);
}

TEST(ReplaceDirectoryTest, ReplacesATreeThatDiffersInAnyWay)
{
  struct Case {
    const char* name;
    void (*change)(const stdfs::path& out);
  };
  const Case cases[] = {
      {"content", [](const stdfs::path& out) { std::ofstream(out / "a" / "two.yaml") << "TWO"; }},
      {"same size, other content",
       [](const stdfs::path& out) { std::ofstream(out / "three.txt") << "4"; }},
      {"an extra file", [](const stdfs::path& out) { std::ofstream(out / "a" / "extra") << ""; }},
      {"a missing file", [](const stdfs::path& out) { stdfs::remove(out / "three.txt"); }},
      {"an empty directory", [](const stdfs::path& out) { stdfs::create_directory(out / "c"); }},
      {"a file's mode",
       [](const stdfs::path& out) { stdfs::permissions(out / "three.txt", stdfs::perms(0666)); }},
      {"a directory's mode",
       [](const stdfs::path& out) { stdfs::permissions(out / "a", stdfs::perms(0777)); }},
      {"a link in place of a file",
       [](const stdfs::path& out) {
         stdfs::remove(out / "three.txt");
         std::ofstream(out.parent_path() / "target") << "3";
         stdfs::create_symlink(out.parent_path() / "target", out / "three.txt");
       }},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const auto out = dir.path() / "out";
    ASSERT_TRUE(replace_directory(out, k_files));
    c.change(out);
    ASSERT_TRUE(replace_directory(out, k_files)) << c.name;
    EXPECT_EQ(read_tree(out), k_files) << c.name;
    EXPECT_FALSE(stdfs::is_symlink(out / "three.txt")) << c.name;
    EXPECT_EQ(mode_of(out / "three.txt"), 0644U) << c.name;
    EXPECT_EQ(mode_of(out / "a"), 0755U) << c.name;
    EXPECT_FALSE(stdfs::exists(out / "c")) << c.name;
  }
}

TEST(ReplaceDirectoryTest, ATreeWrittenForAnotherModeIsRewrittenPrivate)
{
  TempDir dir;
  const auto out = dir.path() / "out";
  ASSERT_TRUE(replace_directory(out, k_files));
  ASSERT_TRUE(replace_directory(out, k_files, FileMode::private_to_owner));
  EXPECT_EQ(mode_of(out), 0700U);
  EXPECT_EQ(mode_of(out / "a" / "b"), 0700U);
  EXPECT_EQ(mode_of(out / "a" / "b" / "one.yaml"), 0600U);
}

}  // namespace
}  // namespace sconectl::fs
