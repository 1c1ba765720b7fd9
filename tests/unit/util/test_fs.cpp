#include "sconectl/util/fs.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::fs {
namespace {

using sconectl::testing::read_file;
using sconectl::testing::TempDir;

TEST(WriteFileAtomicallyTest, CreatesParentsAndLeavesNoTemporaryFiles)
{
  TempDir dir;
  const auto target = dir.path() / "a" / "b" / "out.txt";
  ASSERT_TRUE(write_file_atomically(target, "first"));
  ASSERT_TRUE(write_file_atomically(target, "second"));
  EXPECT_EQ(read_file(target), "second");
  std::size_t files = 0;
  for (const auto& entry : stdfs::directory_iterator(target.parent_path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1U);
}

TEST(WriteFileAtomicallyTest, PrivateFilesAreReadableByTheOwnerOnly)
{
  TempDir dir;
  const auto target = dir.path() / "key.pem";
  ASSERT_TRUE(write_file_atomically(target, "secret", FileMode::private_to_owner));
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
}

// The simulation runtime writes injection files with the session's mode: exactly that mode,
// under any umask.
TEST(WriteFileAtomicallyTest, AnExactModeHoldsUnderAHostileUmask)
{
  TempDir dir;
  const auto target = dir.path() / "conf";
  const auto old_umask = ::umask(0777);
  const auto written = write_file_atomically(target, "x", 0640U);
  ::umask(old_umask);
  ASSERT_TRUE(written) << written.error().describe();
  struct stat info {};
  ASSERT_EQ(::stat(target.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640U);
}

// Symbolic links planted where a writer might put its temporary file (the runtime used the
// predictable name PATH.sconectl-PID) or at the path itself are replaced, never followed.
TEST(WriteFileAtomicallyTest, PlantedSymbolicLinksAreNotFollowed)
{
  TempDir dir;
  dir.write("victim", "untouched");
  const auto target = dir.path() / "conf";
  for (const auto& name : {std::string("conf.sconectl-") + std::to_string(::getpid()),
                           std::string("conf.tmp-XXXXXX")}) {
    stdfs::create_symlink(dir.path() / "victim", dir.path() / name);
  }
  stdfs::create_symlink(dir.path() / "victim", target);
  ASSERT_TRUE(write_file_atomically(target, "written", 0600U));
  EXPECT_EQ(read_file(dir.path() / "victim"), "untouched");
  EXPECT_FALSE(stdfs::is_symlink(target));
  EXPECT_EQ(read_file(target), "written");
}

TEST(WriteFileAtomicallyTest, ReportsAnUnwritableDirectory)
{
  TempDir dir;
  dir.write("file", "x");
  const auto result = write_file_atomically(dir.path() / "file" / "below", "content");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::io);
}

TEST(ReadTextFileTest, NamesThePathAndCause)
{
  const auto result = read_text_file("/nonexistent/sconectl.yaml");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "cannot read /nonexistent/sconectl.yaml: No such file or directory");
}

TEST(ReadTextFileTest, RefusesFilesAboveTheLimit)
{
  TempDir dir;
  const auto path = dir.write("big", std::string(2048, 'x'));
  const auto result = read_text_file(path, 1024);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "cannot read " + path.string() + ": larger than 1024 bytes");
}

TEST(ReadTextFileTest, RefusesDirectories)
{
  TempDir dir;
  const auto result = read_text_file(dir.path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "cannot read " + dir.path().string() + ": it is a directory");
}

// Opening a FIFO for reading blocks until a writer appears; a manifest named by mistake (or on
// purpose) must not hang sconectl.
TEST(ReadTextFileTest, RefusesFifosWithoutBlocking)
{
  TempDir dir;
  const auto fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto reading = std::async(std::launch::async, [&] { return read_text_file(fifo); });
  if (reading.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) {
    // Unblock the reader so that the test ends.
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) {
      ::close(writer);
    }
    FAIL() << "read_text_file blocked on a FIFO";
  }
  const auto result = reading.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::io);
  EXPECT_EQ(result.error().message,
            "cannot read " + fifo.string() + ": not a regular file (it is a named pipe)");
}

TEST(ReadTextFileTest, RefusesDevices)
{
  const auto result = read_text_file("/dev/null");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "cannot read /dev/null: not a regular file (it is a character device)");
}

TEST(ReadTextFileTest, ReadsRegularFilesThroughSymbolicLinks)
{
  TempDir dir;
  const auto target = dir.write("target.yaml", "kind: mesh\n");
  const auto link = dir.path() / "link.yaml";
  stdfs::create_symlink(target, link);
  const auto result = read_text_file(link);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(*result, "kind: mesh\n");
}

TEST(StaysInsideTest, AcceptsPlainRelativePaths)
{
  TempDir dir;
  EXPECT_TRUE(stays_inside(dir.path(), "app.py"));
  EXPECT_TRUE(stays_inside(dir.path(), "src/../app.py"));
  EXPECT_TRUE(stays_inside(dir.path(), "src/nested/"));
  EXPECT_TRUE(stays_inside(dir.path(), "."));
}

TEST(StaysInsideTest, RejectsEscapes)
{
  TempDir dir;
  EXPECT_FALSE(stays_inside(dir.path(), ""));
  EXPECT_FALSE(stays_inside(dir.path(), "/etc/passwd"));
  EXPECT_FALSE(stays_inside(dir.path(), "../secret"));
  EXPECT_FALSE(stays_inside(dir.path(), "src/../../secret"));
}

TEST(StaysInsideTest, RejectsSymbolicLinksThatLeave)
{
  TempDir dir;
  stdfs::create_directory_symlink("/etc", dir.path() / "etc-link");
  EXPECT_FALSE(stays_inside(dir.path(), "etc-link/passwd"));
}

}  // namespace
}  // namespace sconectl::fs
