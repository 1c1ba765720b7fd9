#include "image_archive.hpp"
#include "sconectl/image/content_measurement.hpp"
#include "sconectl/util/digest.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace sconectl::image {
namespace {

using testing::directory;
using testing::file;
using testing::symlink;
using testing::TempDir;

constexpr const char* k_path = "/usr/local/bin:/usr/bin:/bin";

// A Debian-like base layer (merged /usr: /bin -> usr/bin) and an application layer.
std::vector<std::vector<testing::TarEntry>> python_image(const std::string& program)
{
  return {{directory("usr"),
           directory("usr/bin"),
           symlink("bin", "usr/bin"),
           file("usr/bin/python3.11", "ELF python", 0755),
           symlink("usr/bin/python3", "python3.11"),
           file("etc/hostname", "x")},
          {directory("app"),
           file("app/greet.py", program),
           directory("app/lib"),
           file("app/lib/util.py", "def f(): pass\n")}};
}

Result<model::ContentMeasurement> measure(const TempDir& dir,
                                          const std::vector<std::vector<testing::TarEntry>>& layers,
                                          std::vector<std::string> command = {"python3",
                                                                              "greet.py"})
{
  const auto archive = dir.path() / "image.tar";
  testing::write_saved_image(archive, layers);
  auto filesystem = read_saved_image(archive);
  if (!filesystem) {
    return tl::unexpected(filesystem.error());
  }
  return model::measure_content(model::FileMapView(*filesystem),
                                {.command = command, .pwd = "/app", .search_path = k_path});
}

TEST(ContentMeasurementTest, ListsTheResolvedBinaryAndEverythingUnderPwd)
{
  TempDir dir;
  const auto result = measure(dir, python_image("print('hi')\n"));
  ASSERT_TRUE(result) << result.error().message;
  const auto hash = [](std::string_view text) { return to_hex(sha256(text)); };
  EXPECT_EQ(result->listing,
            "sconectl-content-measurement-v1\n"
            "[\"d\",493,0,\"\",\"/app\"]\n"
            "[\"f\",420,12,\"" + hash("print('hi')\n") + "\",\"/app/greet.py\"]\n"
            "[\"d\",493,0,\"\",\"/app/lib\"]\n"
            "[\"f\",420,14,\"" + hash("def f(): pass\n") + "\",\"/app/lib/util.py\"]\n"
            "[\"l\",511,0,\"python3.11\",\"/usr/bin/python3\"]\n"
            "[\"f\",493,10,\"" + hash("ELF python") + "\",\"/usr/bin/python3.11\"]\n");
  EXPECT_EQ(result->value, hash(result->listing));
}

TEST(ContentMeasurementTest, IsTheSameForTheSameContentAndChangesWithTheProgram)
{
  TempDir dir;
  const auto first = measure(dir, python_image("print('hi')\n"));
  const auto again = measure(dir, python_image("print('hi')\n"));
  const auto changed = measure(dir, python_image("print('bye')\n"));
  ASSERT_TRUE(first && again && changed);
  EXPECT_EQ(first->value, again->value);
  EXPECT_NE(first->value, changed->value);
}

TEST(ContentMeasurementTest, IgnoresFilesOutsidePwdAndTheBinary)
{
  TempDir dir;
  auto layers = python_image("print('hi')\n");
  const auto base = measure(dir, layers);
  layers[0].push_back(file("etc/motd", "changed"));
  const auto other = measure(dir, layers);
  ASSERT_TRUE(base && other);
  EXPECT_EQ(base->value, other->value);
}

TEST(ContentMeasurementTest, AppliesWhiteoutsOfUpperLayers)
{
  TempDir dir;
  auto layers = python_image("print('hi')\n");
  layers.push_back({file("app/.wh.lib", "")});
  const auto result = measure(dir, layers);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->listing.find("/app/lib"), std::string::npos) << result->listing;

  auto opaque = python_image("print('hi')\n");
  opaque.push_back({directory("app"), file("app/.wh..wh..opq", ""), file("app/new.py", "x")});
  const auto replaced = measure(dir, opaque, {"python3", "new.py"});
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->listing.find("greet.py"), std::string::npos);
  EXPECT_NE(replaced->listing.find("/app/new.py"), std::string::npos);
}

TEST(ContentMeasurementTest, FindsAbsoluteAndRelativeCommands)
{
  TempDir dir;
  auto layers = python_image("print('hi')\n");
  layers[1].push_back(file("app/run.sh", "#!/bin/sh\n", 0755));
  EXPECT_TRUE(measure(dir, layers, {"/bin/python3", "greet.py"}));
  const auto relative = measure(dir, layers, {"./run.sh"});
  ASSERT_TRUE(relative);
}

TEST(ContentMeasurementTest, ReportsAMissingProgramOrWorkingDirectory)
{
  TempDir dir;
  const auto missing = measure(dir, python_image("x"), {"node", "app.js"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(
      missing.error().message,
      "the command's program 'node' is not in the image (searched /usr/local/bin:/usr/bin:/bin)");
  const auto archive = dir.path() / "image.tar";
  testing::write_saved_image(archive, {{file("usr/bin/python3", "x", 0755)}});
  const auto filesystem = read_saved_image(archive);
  ASSERT_TRUE(filesystem);
  const auto no_pwd =
      model::measure_content(model::FileMapView(*filesystem),
                             {.command = {"python3"}, .pwd = "/app", .search_path = k_path});
  ASSERT_FALSE(no_pwd);
  EXPECT_EQ(no_pwd.error().message, "the working directory /app is not in the image");
}

TEST(ContentMeasurementTest, ReadsNonAsciiNamesWhateverTheLocale)
{
  TempDir dir;
  auto layers = python_image("print('hi')\n");
  layers[0].insert(layers[0].begin(), file("usr/share/doc/gr\u00fc\u00dfe.txt", "x"));
  layers[1].push_back(file("app/\u00e9t\u00e9.py", "y"));
  const auto result = measure(dir, layers);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_NE(result->listing.find("/app/\u00e9t\u00e9.py"), std::string::npos) << result->listing;
  EXPECT_NE(result->listing.find("/usr/bin/python3.11"), std::string::npos);
}

TEST(ContentMeasurementTest, RejectsArchivesThatAreNotImages)
{
  TempDir dir;
  const auto path = dir.write("junk.tar", "this is not a tar archive");
  const auto result = read_saved_image(path);
  ASSERT_FALSE(result);
  const auto no_manifest = dir.path() / "plain.tar";
  std::ofstream(no_manifest, std::ios::binary)
      << testing::detail::write_tar({file("hello.txt", "hi")});
  const auto plain = read_saved_image(no_manifest);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message,
            "image archive " + no_manifest.string() + " has no manifest.json");
}

}  // namespace
}  // namespace sconectl::image
