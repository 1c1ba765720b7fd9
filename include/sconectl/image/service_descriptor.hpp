#pragma once

#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::image {

// Labels that mark images built by sconectl.
inline constexpr const char* k_label_input_digest = "dev.sconectl.input-digest";
inline constexpr const char* k_label_service = "dev.sconectl.service";
inline constexpr const char* k_label_version = "dev.sconectl.version";
// "sim" on images whose entrypoint is the simulation runtime; absent otherwise.
inline constexpr const char* k_label_runtime = "dev.sconectl.runtime";
inline constexpr const char* k_runtime_sim = "sim";

// The format of target/services/<name>.json; bumped on incompatible changes.
inline constexpr int k_descriptor_format = 1;

// What `apply -f service.yaml` records for the mesh step (documented in docs/target-layout.md).
// It holds explicit secret values, so it is written with mode 0600 and never leaves target/.
struct ServiceDescriptor {
  std::string name;
  std::string image_reference;              // build.to
  std::string image_id;                     // local image id, sha256:...
  std::optional<std::string> image_digest;  // registry manifest digest once pushed
  std::string base_image;
  std::string measurement_method;  // "content" or "scone"
  std::string measurement;         // 64 hex digits
  std::string mode;                // "production" or "debug"
  std::string runtime = "none";    // "none", or "sim" for the simulation runtime (no SGX)
  std::string input_digest;
  std::string sconectl_version;
  nlohmann::json service;  // manifest::service_metadata(..., Disclosure::everything)
};

[[nodiscard]] nlohmann::json to_json(const ServiceDescriptor& descriptor);
[[nodiscard]] Result<ServiceDescriptor> descriptor_from_json(const nlohmann::json& json);

[[nodiscard]] std::filesystem::path descriptor_path(const std::filesystem::path& target_dir,
                                                    const std::string& service_name);
[[nodiscard]] Result<void> write_descriptor(const ServiceDescriptor& descriptor,
                                            const std::filesystem::path& target_dir);
// std::nullopt when there is none (or it is unreadable: it is then simply rebuilt).
[[nodiscard]] std::optional<ServiceDescriptor> read_descriptor(
    const std::filesystem::path& target_dir, const std::string& service_name);

}  // namespace sconectl::image
