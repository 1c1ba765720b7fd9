#include "sconectl/apply/apply_service.hpp"

#include "sconectl/image/build_context.hpp"
#include "sconectl/image/dockerfile.hpp"
#include "sconectl/image/measure_image.hpp"
#include "sconectl/image/service_descriptor.hpp"
#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/service_json.hpp"
#include "sconectl/model/content_measurement.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/fs.hpp"
#include "sconectl/version.hpp"

#include <spdlog/spdlog.h>

namespace sconectl::apply {

using image::assemble_build_context;
using image::BuildContext;
using image::BuildRequest;
using image::context_listing;
using image::descriptor_path;
using image::DockerCli;
using image::ImageInfo;
using image::k_label_input_digest;
using image::k_label_service;
using image::k_label_version;
using image::measure_image;
using image::measurer_name;
using image::MeasureRequest;
using image::plan_dockerfile;
using image::read_descriptor;
using image::render_dockerfile;
using image::resolve_base_image;
using image::ServiceDescriptor;
using image::write_descriptor;

namespace {

void note(const ServiceApplyOptions& options, std::string_view text)
{
  if (options.on_progress) {
    options.on_progress(text);
  }
}

std::string tag_of(const std::string& reference)
{
  const auto parsed = manifest::parse_image_reference(reference);
  return parsed ? parsed->tag_or_latest() : "latest";
}

std::map<std::string, std::string> image_labels(const manifest::ServiceManifest& service,
                                                const std::string& base_image)
{
  return {{"org.opencontainers.image.title", service.build.name},
          {"org.opencontainers.image.version", tag_of(service.build.to)},
          {"org.opencontainers.image.base.name", base_image},
          {k_label_service,
           manifest::service_metadata(service, manifest::Disclosure::public_only).dump()},
          {k_label_version, k_version}};
}

// Everything the image depends on: the context (Dockerfile and files), the base image, the labels
// (service metadata) and this version of sconectl.
std::string input_digest(const BuildContext& context,
                         const std::string& base_image_id,
                         const std::map<std::string, std::string>& labels)
{
  const nlohmann::json inputs{{"format", 1},
                              {"sconectl", k_version},
                              {"base_image_id", base_image_id},
                              {"context", context_listing(context)},
                              {"labels", labels}};
  return "sha256:" + to_hex(sha256(inputs.dump()));
}

std::vector<std::string> injection_targets(const manifest::ServiceManifest& service)
{
  std::vector<std::string> paths;
  for (const auto& file : service.injection_files) {
    paths.push_back(file.path);
  }
  return paths;
}

Result<ImageInfo> require_image(DockerCli& docker, const std::string& reference, bool may_pull)
{
  auto info = docker.inspect(reference);
  if (!info) {
    return forward_error(std::move(info.error()));
  }
  if (*info) {
    return std::move(**info);
  }
  if (may_pull) {
    if (auto pulled = docker.pull(reference); !pulled) {
      pulled.error().with_context("base image " + reference
                                  + " is not available locally; build or load it, or pick another "
                                    "with --base-image or build.from");
      return forward_error(std::move(pulled.error()));
    }
    return require_image(docker, reference, false);
  }
  return fail(ErrorKind::process, "image " + reference + " is missing after it was built");
}

}  // namespace

Result<ServiceApplyResult> apply_service(const manifest::ServiceManifest& service,
                                         const ServiceApplyOptions& options,
                                         DockerCli& docker)
{
  const auto& build = service.build;
  TRY(docker.server_version());
  // An unchanged image is only checked in the registry: what that check loads (libcurl) loads
  // meanwhile.
  if (options.push == Push::yes) {
    docker.prepare_registry_digest();
  }
  auto base_image = resolve_base_image(build, options.base_image);
  if (!base_image) {
    return forward_error(std::move(base_image.error()));
  }
  auto base_info = require_image(docker, *base_image, true);
  if (!base_info) {
    return forward_error(std::move(base_info.error()));
  }
  if (options.sim_runtime && options.measurer != image::Measurer::content) {
    return fail(ErrorKind::usage,
                "--runtime sim measures with the content measurement; --measure scone needs a "
                "SCONE runtime");
  }
  // target/build and target/services are replaced and written as directories of their own: a
  // link there (to a directory elsewhere) is replaced, never followed.
  for (const auto* own : {"build", "services"}) {
    TRY(fs::make_own_directory(options.target_dir / own));
  }
  auto plan = plan_dockerfile(service, *base_image);
  if (!plan) {
    return forward_error(std::move(plan.error()));
  }
  if (options.sim_runtime && plan->workdir == "/") {
    return fail(ErrorKind::manifest,
                "build.pwd: the simulation runtime measures everything under pwd at every start, "
                "and '/' holds /proc and /sys; give the program a directory of its own");
  }
  if (options.sim_runtime) {
    plan->runtime =
        image::RuntimePlan{.image_path = model::k_sim_runtime_path,
                           .not_measured = injection_targets(service),
                           .allow_persistent_injection = options.allow_persistent_injection};
  }
  const auto build_dir = options.target_dir / "build" / build.name;
  auto context =
      assemble_build_context(service, render_dockerfile(*plan), build_dir, options.sim_runtime);
  if (!context) {
    return forward_error(std::move(context.error()));
  }
  auto labels = image_labels(service, *base_image);
  if (options.sim_runtime) {
    labels[image::k_label_runtime] = image::k_runtime_sim;
  }
  const auto digest = input_digest(*context, base_info->id, labels);
  labels[k_label_input_digest] = digest;

  auto existing = docker.inspect(build.to);
  if (!existing) {
    return forward_error(std::move(existing.error()));
  }
  const bool up_to_date = options.rebuild == Rebuild::when_inputs_changed && *existing
                          && (*existing)->labels.count(k_label_input_digest) > 0
                          && (*existing)->labels.at(k_label_input_digest) == digest;
  if (!up_to_date) {
    note(options, "building " + build.to);
    auto built =
        docker.build(BuildRequest{.context_dir = build_dir, .tag = build.to, .labels = labels},
                     options.on_build_output);
    if (!built) {
      built.error().with_context("building the image of service '" + build.name + "'");
      return forward_error(std::move(built.error()));
    }
  }
  auto image = require_image(docker, build.to, false);
  if (!image) {
    return forward_error(std::move(image.error()));
  }

  const auto method = std::string(measurer_name(options.measurer));
  const auto previous = read_descriptor(options.target_dir, build.name);
  std::string measurement;
  if (previous && previous->image_id == image->id && previous->measurement_method == method) {
    measurement = previous->measurement;
  } else {
    note(options, "measuring " + build.to + " (" + method + ")");
    auto measured = measure_image(
        MeasureRequest{.reference = build.to,
                       .info = *image,
                       .command = plan->command,
                       .pwd = plan->workdir,
                       .measurer = options.measurer,
                       .runtime = plan->runtime
                                      ? std::optional<std::string>(plan->runtime->image_path)
                                      : std::nullopt,
                       .not_measured =
                           plan->runtime ? plan->runtime->not_measured : std::vector<std::string>(),
                       .scratch_dir = options.target_dir / "build"},
        docker);
    if (!measured) {
      measured.error().with_context("measuring the image of service '" + build.name + "'");
      return forward_error(std::move(measured.error()));
    }
    measurement = std::move(*measured);
  }

  std::optional<std::string> image_digest;
  // The image this descriptor recorded as pushed under this reference: when the registry still
  // holds that digest there, pushing again would send nothing, only cost a process and a round
  // trip. If it is gone or the tag moved, push.
  const bool pushed_before = previous && previous->image_id == image->id
                             && previous->image_reference == build.to
                             && previous->image_digest.has_value();
  if (options.push == Push::yes && pushed_before
      && docker.registry_digest(build.to) == previous->image_digest) {
    note(options, "the registry holds " + build.to + " (" + *previous->image_digest + ")");
    image_digest = previous->image_digest;
  } else if (options.push == Push::yes) {
    note(options, "pushing " + build.to);
    auto pushed = docker.push(build.to);
    if (!pushed) {
      pushed.error().with_context("pushing the image of service '" + build.name + "'");
      return forward_error(std::move(pushed.error()));
    }
    image_digest = std::move(*pushed);
  } else if (previous && previous->image_id == image->id) {
    image_digest = previous->image_digest;
  }

  ServiceDescriptor descriptor{
      .name = build.name,
      .image_reference = build.to,
      .image_id = image->id,
      .image_digest = std::move(image_digest),
      .base_image = *base_image,
      .measurement_method = method,
      .measurement = std::move(measurement),
      .mode = options.mode == model::EnclaveMode::production ? "production" : "debug",
      .runtime = options.sim_runtime ? image::k_runtime_sim : "none",
      .input_digest = digest,
      .sconectl_version = k_version,
      .service = manifest::service_metadata(service, manifest::Disclosure::everything)};
  TRY(write_descriptor(descriptor, options.target_dir));
  spdlog::info("service '{}' recorded in {}",
               build.name,
               descriptor_path(options.target_dir, build.name).string());
  return ServiceApplyResult{.descriptor = std::move(descriptor),
                            .up_to_date = up_to_date,
                            .descriptor_file = descriptor_path(options.target_dir, build.name)};
}

}  // namespace sconectl::apply
