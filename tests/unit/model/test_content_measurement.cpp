#include "sconectl/model/content_measurement.hpp"

#include <gtest/gtest.h>

namespace sconectl::model {
namespace {

FileMap image()
{
  const auto dir = [](std::uint32_t mode) {
    return FileEntry{.type = FileEntry::Type::directory, .mode = mode};
  };
  const auto file = [](std::uint64_t size, const char* hash) {
    return FileEntry{.type = FileEntry::Type::file, .mode = 0755, .size = size, .sha256 = hash};
  };
  return {{"/app", dir(0755)},
          {"/app/main.py", file(3, "aa")},
          {"/app/secret.conf", file(4, "bb")},
          {"/opt", dir(0755)},
          {"/opt/sconectl", dir(0755)},
          {"/opt/sconectl/bin", dir(0755)},
          {"/opt/sconectl/bin/sconectl-runtime-sim", file(9, "cc")},
          {"/usr", dir(0755)},
          {"/usr/bin", dir(0755)},
          {"/usr/bin/python3", file(5, "dd")}};
}

TEST(ContentMeasurementV2Test, CoversTheRuntimeAndLeavesOutInjectionTargets)
{
  const auto files = image();
  MeasurementInput input{.command = {"python3", "main.py"},
                         .pwd = "/app",
                         .search_path = "/usr/bin",
                         .not_measured = {"/app/secret.conf"}};
  const auto v1 = measure_content(FileMapView(files), input);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(v1->listing,
            "sconectl-content-measurement-v1\n"
            "[\"d\",493,0,\"\",\"/app\"]\n"
            "[\"f\",493,3,\"aa\",\"/app/main.py\"]\n"
            "[\"f\",493,4,\"bb\",\"/app/secret.conf\"]\n"
            "[\"f\",493,5,\"dd\",\"/usr/bin/python3\"]\n");

  input.runtime = k_sim_runtime_path;
  const auto v2 = measure_content(FileMapView(files), input);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(v2->listing,
            "sconectl-content-measurement-v2\n"
            "[\"d\",493,0,\"\",\"/app\"]\n"
            "[\"f\",493,3,\"aa\",\"/app/main.py\"]\n"
            "[\"f\",493,9,\"cc\",\"/opt/sconectl/bin/sconectl-runtime-sim\"]\n"
            "[\"f\",493,5,\"dd\",\"/usr/bin/python3\"]\n");
  EXPECT_NE(v1->value, v2->value);
}

TEST(ContentMeasurementV2Test, AMissingRuntimeIsNamed)
{
  auto files = image();
  files.erase("/opt/sconectl/bin/sconectl-runtime-sim");
  const auto missing = measure_content(FileMapView(files),
                                       {.command = {"python3"},
                                        .pwd = "/app",
                                        .search_path = "/usr/bin",
                                        .runtime = k_sim_runtime_path});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "the runtime /opt/sconectl/bin/sconectl-runtime-sim is not in the image");
}

}  // namespace
}  // namespace sconectl::model
