#pragma once

// A mesh with its services recorded in a target directory, as `apply -f service.yaml` leaves
// them, so mesh tests start from manifests text rather than hand-made descriptors.

#include "manifest_text.hpp"
#include "sconectl/image/service_descriptor.hpp"
#include "sconectl/manifest/load.hpp"
#include "sconectl/manifest/service_json.hpp"
#include "sconectl/util/digest.hpp"
#include "temp_dir.hpp"

#include <stdexcept>
#include <string>

namespace sconectl::testing {

inline std::string fake_hash(const std::string& what)
{
  return to_hex(sha256(what));
}

// "genservice" or "mesh" (or "" when the file says neither).
inline std::string manifest_kind(const std::filesystem::path& file)
{
  return manifest::read_manifest(file, manifest::LoadOptions{.variables = variables()}).kind;
}

inline manifest::ServiceManifest load_service(const std::filesystem::path& file)
{
  auto report = manifest::read_manifest(file, manifest::LoadOptions{.variables = variables()});
  if (!report.ok()) {
    throw std::runtime_error("invalid service manifest in test:\n" + formatted(report));
  }
  return std::get<manifest::ServiceManifest>(std::move(*report.document));
}

// The descriptor `apply -f service.yaml` would write, with ids, digests and the measurement made
// up from the service's name.
inline image::ServiceDescriptor fake_descriptor(const manifest::ServiceManifest& service)
{
  const auto& name = service.build.name;
  return image::ServiceDescriptor{
      .name = name,
      .image_reference = service.build.to,
      .image_id = "sha256:" + fake_hash(name + " image"),
      .image_digest = "sha256:" + fake_hash(name + " digest"),
      .base_image = "registry.example.com/base/python:1",
      .measurement_method = "content",
      .measurement = fake_hash(name + " measurement"),
      .mode = "production",
      .input_digest = "sha256:" + fake_hash(name + " inputs"),
      .sconectl_version = "0.0.0-test",
      .service = manifest::service_metadata(service, manifest::Disclosure::everything)};
}

// `runtime`: "none", or "sim" for a service built with --runtime sim.
inline void record_service(const std::filesystem::path& manifest_file,
                           const std::filesystem::path& target,
                           const std::string& runtime = "none")
{
  auto descriptor = fake_descriptor(load_service(manifest_file));
  descriptor.runtime = runtime;
  if (!image::write_descriptor(descriptor, target)) {
    throw std::runtime_error("cannot write a descriptor in test");
  }
}

inline manifest::MeshManifest load_mesh(const std::filesystem::path& file)
{
  auto report = manifest::read_manifest(file, manifest::LoadOptions{.variables = variables()});
  if (!report.ok()) {
    throw std::runtime_error("invalid mesh manifest in test:\n" + formatted(report));
  }
  return std::get<manifest::MeshManifest>(std::move(*report.document));
}

inline std::string diagnostics_text(const Error& error)
{
  std::string text = error.describe() + "\n";
  for (const auto& diagnostic : error.diagnostics) {
    text += format(diagnostic) + "\n";
  }
  return text;
}

}  // namespace sconectl::testing
