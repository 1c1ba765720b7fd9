#include "sconectl/image/service_descriptor.hpp"

#include "sconectl/util/fs.hpp"

namespace sconectl::image {

nlohmann::json to_json(const ServiceDescriptor& descriptor)
{
  nlohmann::json json{
      {"format", k_descriptor_format},
      {"kind", "ServiceDescriptor"},
      {"name", descriptor.name},
      {"image",
       {{"reference", descriptor.image_reference},
        {"id", descriptor.image_id},
        {"digest",
         descriptor.image_digest ? nlohmann::json(*descriptor.image_digest)
                                 : nlohmann::json(nullptr)},
        {"base", descriptor.base_image}}},
      {"measurement",
       {{"method", descriptor.measurement_method}, {"value", descriptor.measurement}}},
      {"mode", descriptor.mode},
      {"input_digest", descriptor.input_digest},
      {"sconectl_version", descriptor.sconectl_version},
      {"service", descriptor.service}};
  // Written only for a runtime, so descriptors of images without one stay as they were.
  if (descriptor.runtime != "none") {
    json["runtime"] = descriptor.runtime;
  }
  return json;
}

Result<ServiceDescriptor> descriptor_from_json(const nlohmann::json& json)
{
  try {
    if (json.at("format").get<int>() != k_descriptor_format) {
      return fail(ErrorKind::io,
                  "service descriptor has format " + json.at("format").dump()
                      + "; this sconectl reads format " + std::to_string(k_descriptor_format));
    }
    const auto& image = json.at("image");
    ServiceDescriptor descriptor{
        .name = json.at("name").get<std::string>(),
        .image_reference = image.at("reference").get<std::string>(),
        .image_id = image.at("id").get<std::string>(),
        .base_image = image.at("base").get<std::string>(),
        .measurement_method = json.at("measurement").at("method").get<std::string>(),
        .measurement = json.at("measurement").at("value").get<std::string>(),
        .mode = json.at("mode").get<std::string>(),
        .input_digest = json.at("input_digest").get<std::string>(),
        .sconectl_version = json.at("sconectl_version").get<std::string>(),
        .service = json.at("service")};
    descriptor.runtime = json.value("runtime", std::string("none"));
    if (!image.at("digest").is_null()) {
      descriptor.image_digest = image.at("digest").get<std::string>();
    }
    return descriptor;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::io, std::string("malformed service descriptor: ") + e.what());
  }
}

std::filesystem::path descriptor_path(const std::filesystem::path& target_dir,
                                      const std::string& service_name)
{
  return target_dir / "services" / (service_name + ".json");
}

Result<void> write_descriptor(const ServiceDescriptor& descriptor,
                              const std::filesystem::path& target_dir)
{
  return fs::write_file_atomically(descriptor_path(target_dir, descriptor.name),
                                   to_json(descriptor).dump(2) + "\n",
                                   fs::FileMode::private_to_owner);
}

std::optional<ServiceDescriptor> read_descriptor(const std::filesystem::path& target_dir,
                                                 const std::string& service_name)
{
  const auto text = fs::read_text_file(descriptor_path(target_dir, service_name));
  if (!text) {
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  auto descriptor = descriptor_from_json(json);
  if (!descriptor) {
    return std::nullopt;
  }
  return std::move(*descriptor);
}

}  // namespace sconectl::image
