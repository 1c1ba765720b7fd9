#pragma once

#include "sconectl/image/docker_cli.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::image {

// How the enclave measurement (MRENCLAVE) of an image is obtained.
enum class Measurer {
  content,  // computed by sconectl from the image's files; no SCONE runtime needed (default)
  scone,    // run the image with SCONE_HASH=1; the SCONE runtime prints MRENCLAVE and exits
};

[[nodiscard]] std::string_view measurer_name(Measurer measurer);

struct MeasureRequest {
  std::string reference;
  ImageInfo info;
  std::vector<std::string> command;  // the service's command; its first word is the binary
  std::string pwd;
  Measurer measurer = Measurer::content;
  // The simulation runtime's path in the image and the paths it writes after attestation
  // (content measurement version 2); unset for an image without a runtime (version 1).
  std::optional<std::string> runtime;
  std::vector<std::string> not_measured;
  std::filesystem::path scratch_dir;  // where `docker save` may write its archive for a moment
};

// The measurement of an image that exists locally, as 64 hex digits (docs/measurement.md).
[[nodiscard]] Result<std::string> measure_image(const MeasureRequest& request, DockerCli& docker);

}  // namespace sconectl::image
