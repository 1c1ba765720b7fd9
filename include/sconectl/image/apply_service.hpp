#pragma once

#include "sconectl/image/base_image.hpp"
#include "sconectl/image/docker_cli.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/image/service_descriptor.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace sconectl::image {

enum class EnclaveMode { production, debug };

enum class Push { yes, no };
enum class Rebuild { when_inputs_changed, always };

struct ServiceApplyOptions {
  std::filesystem::path target_dir = "target";
  Push push = Push::yes;
  Rebuild rebuild = Rebuild::when_inputs_changed;
  Measurer measurer = Measurer::content;
  EnclaveMode mode = EnclaveMode::production;
  BaseImageChoice base_image;
  // Each line of `docker build` output, as it arrives.
  std::function<void(std::string_view line)> on_build_output;
  // Short notes on what happens next ("building", "measuring", "pushing").
  std::function<void(std::string_view note)> on_progress;
};

struct ServiceApplyResult {
  ServiceDescriptor descriptor;
  bool up_to_date = false;  // the image existed with the same input digest: nothing was built
  std::filesystem::path descriptor_file;
};

// Builds the confidential image of a service through the Docker CLI, measures it, pushes it
// (unless Push::no) and records the descriptor under target/services/. Skips the build when an
// image with the same input digest already exists.
[[nodiscard]] Result<ServiceApplyResult> apply_service(const manifest::ServiceManifest& service,
                                                       const ServiceApplyOptions& options,
                                                       DockerCli& docker);

// Labels that mark images built by sconectl.
inline constexpr const char* k_label_input_digest = "dev.sconectl.input-digest";
inline constexpr const char* k_label_service = "dev.sconectl.service";
inline constexpr const char* k_label_version = "dev.sconectl.version";

}  // namespace sconectl::image
