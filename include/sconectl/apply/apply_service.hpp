#pragma once

#include "sconectl/image/base_image.hpp"
#include "sconectl/image/docker_cli.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/image/service_descriptor.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/model/enclave_mode.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sconectl::apply {

enum class Push { yes, no };
enum class Rebuild { when_inputs_changed, always };

struct ServiceApplyOptions {
  std::filesystem::path target_dir = "target";
  Push push = Push::yes;
  Rebuild rebuild = Rebuild::when_inputs_changed;
  image::Measurer measurer = image::Measurer::content;
  model::EnclaveMode mode = model::EnclaveMode::production;
  image::BaseImageChoice base_image;
  // With a path: the simulation runtime (`--runtime sim`, no SGX) becomes the image's entrypoint.
  std::optional<std::filesystem::path> sim_runtime;
  bool allow_persistent_injection = false;
  // Each line of `docker build` output, as it arrives.
  std::function<void(std::string_view line)> on_build_output;
  // Short notes on what happens next ("building", "measuring", "pushing").
  std::function<void(std::string_view note)> on_progress;
};

struct ServiceApplyResult {
  image::ServiceDescriptor descriptor;
  bool up_to_date = false;  // the image existed with the same input digest: nothing was built
  std::filesystem::path descriptor_file;
};

// Builds the confidential image of a service through the Docker CLI, measures it, pushes it
// (unless Push::no) and records the descriptor under target/services/. Skips the build when an
// image with the same input digest already exists.
[[nodiscard]] Result<ServiceApplyResult> apply_service(const manifest::ServiceManifest& service,
                                                       const ServiceApplyOptions& options,
                                                       image::DockerCli& docker);

}  // namespace sconectl::apply
