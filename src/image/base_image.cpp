#include "sconectl/image/base_image.hpp"

#include "sconectl/manifest/names.hpp"

namespace sconectl::image {

namespace {

// The image name of each build kind below k_default_base_repository.
std::optional<std::string> default_image_name(manifest::BuildKind kind)
{
  using manifest::BuildKind;
  switch (kind) {
    case BuildKind::python:
      return "python";
    case BuildKind::java:
    case BuildKind::java17:
      return "java17";
    case BuildKind::java8:
      return "java8";
    case BuildKind::java15:
      return "java15";
    case BuildKind::java17_bullseye:
      return "java17-bullseye";
    case BuildKind::java21:
      return "java21";
    case BuildKind::java21_ubuntu:
      return "java21-ubuntu";
    case BuildKind::java_glibc:
      return "java-glibc";
    case BuildKind::sconify_image:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string with_version(std::string reference, const std::string& version)
{
  const std::string placeholder = "{version}";
  for (auto at = reference.find(placeholder); at != std::string::npos;
       at = reference.find(placeholder, at + version.size())) {
    reference.replace(at, placeholder.size(), version);
  }
  return reference;
}

}  // namespace

std::optional<std::string> default_base_image(manifest::BuildKind kind, const std::string& version)
{
  const auto name = default_image_name(kind);
  if (!name) {
    return std::nullopt;
  }
  return std::string(k_default_base_repository) + "/" + *name + ":" + version;
}

Result<std::string> resolve_base_image(const manifest::Build& build, const BaseImageChoice& choice)
{
  std::string reference;
  std::string origin;
  const auto kind = std::string(manifest::to_string(build.kind));
  if (build.from) {
    reference = *build.from;
    origin = "build.from";
  } else if (choice.from_command_line) {
    reference = *choice.from_command_line;
    origin = "--base-image";
  } else if (const auto configured = choice.from_config.find(kind);
             configured != choice.from_config.end()) {
    reference = configured->second;
    origin = "the config file's base_images." + kind;
  } else if (auto fallback = default_base_image(build.kind, choice.version)) {
    reference = *fallback;
    origin = "the default for kind " + kind;
  } else {
    return fail(ErrorKind::manifest, "build.from is required for kind " + kind);
  }
  reference = with_version(std::move(reference), choice.version);
  if (const auto problem = manifest::check_image_reference(reference); !problem.empty()) {
    return fail(ErrorKind::usage,
                "base image '" + reference + "' from " + origin
                    + " is not a valid image reference; expected " + problem);
  }
  return reference;
}

}  // namespace sconectl::image
