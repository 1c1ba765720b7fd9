#include "sconectl/image/measure_image.hpp"

#include "sconectl/image/content_measurement.hpp"
#include "sconectl/util/fs.hpp"

#include <regex>
#include <system_error>

namespace sconectl::image {

namespace {

constexpr std::chrono::minutes k_scone_hash_timeout{2};

std::string search_path(const ImageInfo& info)
{
  for (const auto& entry : info.env) {
    if (entry.rfind("PATH=", 0) == 0) {
      return entry.substr(5);
    }
  }
  return model::k_default_search_path;
}

Result<std::string> measure_with_content(const MeasureRequest& request, DockerCli& docker)
{
  // target/build: a link there is replaced, never followed, so image.tar is written and deleted
  // under target/ only.
  TRY(fs::make_own_directory(request.scratch_dir));
  std::error_code ec;
  const auto archive = request.scratch_dir / "image.tar";
  auto saved = docker.save(request.reference, archive);
  if (!saved) {
    std::filesystem::remove(archive, ec);
    return forward_error(std::move(saved.error()));
  }
  auto filesystem = read_saved_image(archive);
  std::filesystem::remove(archive, ec);
  if (!filesystem) {
    return forward_error(std::move(filesystem.error()));
  }
  auto measurement = model::measure_content(model::FileMapView(*filesystem),
                                            {.command = request.command,
                                             .pwd = request.pwd,
                                             .search_path = search_path(request.info),
                                             .runtime = request.runtime,
                                             .not_measured = request.not_measured});
  if (!measurement) {
    return forward_error(std::move(measurement.error()));
  }
  return measurement->value;
}

Result<std::string> measure_with_scone(const MeasureRequest& request, DockerCli& docker)
{
  auto completed = docker.run(request.reference,
                              {request.command.front()},
                              {{"SCONE_HASH", "1"}, {"SCONE_NO_TIME_THREAD", "1"}},
                              k_scone_hash_timeout);
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  static const std::regex hash(R"(^\s*([0-9a-f]{64})\s*$)");
  std::smatch match;
  if (completed->exit_code != 0 || !std::regex_match(completed->out, match, hash)) {
    return fail(ErrorKind::process,
                "running '" + request.command.front() + "' with SCONE_HASH=1 in " + request.reference
                    + " did not print an enclave measurement: the image does not use the SCONE "
                      "runtime. Use --measure content, or a SCONE base image.");
  }
  return match[1].str();
}

}  // namespace

std::string_view measurer_name(Measurer measurer)
{
  return measurer == Measurer::content ? "content" : "scone";
}

Result<std::string> measure_image(const MeasureRequest& request, DockerCli& docker)
{
  if (request.command.empty()) {
    return fail(ErrorKind::manifest, "cannot measure " + request.reference + ": it has no command");
  }
  return request.measurer == Measurer::content ? measure_with_content(request, docker)
                                               : measure_with_scone(request, docker);
}

}  // namespace sconectl::image
