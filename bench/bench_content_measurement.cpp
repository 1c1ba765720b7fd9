// Throughput of the content measurement: builds a `docker save` archive of N MiB in files of
// realistic sizes, then times read_saved_image + measure_content over it. bench/run.sh compares
// the figure with sha256sum over the same bytes.
//
//   bench_content_measurement OUT_DIR SIZE_MIB
// Prints "content_measurement: <MiB> MiB in <s> s = <MiB/s> MiB/s" and leaves the extracted files
// in OUT_DIR/files for the sha256sum comparison.

#include "image_archive.hpp"
#include "sconectl/image/content_measurement.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

int main(int argc, char** argv)
{
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SIZE_MIB\n", argv[0]);
    return 2;
  }
  namespace stdfs = std::filesystem;
  const stdfs::path out = argv[1];
  const auto mebibytes = std::stoul(argv[2]);
  stdfs::create_directories(out / "files" / "app");

  std::mt19937_64 random(42);
  std::vector<sconectl::testing::TarEntry> layer{
      sconectl::testing::directory("app"), sconectl::testing::file("usr/bin/python3", "ELF", 0755)};
  std::size_t total = 0;
  for (std::size_t index = 0; total < mebibytes * 1024 * 1024; ++index) {
    // A mix of small sources and larger blobs, as in a Python application.
    const std::size_t size = index % 10 == 0 ? 4 * 1024 * 1024 : 64 * 1024;
    std::string content(size, '\0');
    for (auto& c : content) {
      c = static_cast<char>(random());
    }
    const auto name = "app/file" + std::to_string(index) + ".bin";
    std::ofstream(out / "files" / name, std::ios::binary) << content;
    layer.push_back(sconectl::testing::file(name, std::move(content)));
    total += size;
  }
  const auto archive = out / "image.tar";
  sconectl::testing::write_saved_image(archive, {layer});

  const auto started = std::chrono::steady_clock::now();
  const auto filesystem = sconectl::image::read_saved_image(archive);
  if (!filesystem) {
    std::fprintf(stderr, "%s\n", filesystem.error().message.c_str());
    return 1;
  }
  const auto measurement = sconectl::model::measure_content(
      sconectl::model::FileMapView(*filesystem),
      {.command = {"python3", "x.py"}, .pwd = "/app", .search_path = "/usr/bin"});
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!measurement) {
    std::fprintf(stderr, "%s\n", measurement.error().message.c_str());
    return 1;
  }
  const double mib = static_cast<double>(total) / (1024.0 * 1024.0);
  std::printf("content_measurement: %.0f MiB in %.3f s = %.0f MiB/s (measurement %s)\n",
              mib,
              seconds,
              mib / seconds,
              measurement->value.substr(0, 16).c_str());
  return 0;
}
