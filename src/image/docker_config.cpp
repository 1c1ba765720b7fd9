#include "docker_config.hpp"

#include "sconectl/util/fs.hpp"

namespace sconectl::image::detail {

std::filesystem::path docker_config_file(const manifest::VariableLookup& environment)
{
  if (!environment) {
    return {};
  }
  if (const auto dir = environment("DOCKER_CONFIG"); dir && !dir->empty()) {
    return std::filesystem::path(*dir) / "config.json";
  }
  if (const auto home = environment("HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".docker" / "config.json";
  }
  return {};
}

std::optional<nlohmann::json> read_docker_config(const std::filesystem::path& file)
{
  if (file.empty()) {
    return std::nullopt;
  }
  const auto text = fs::read_text_file(file);
  if (!text) {
    return std::nullopt;
  }
  auto config = nlohmann::json::parse(*text, nullptr, false);
  if (!config.is_object()) {
    return std::nullopt;
  }
  return config;
}

}  // namespace sconectl::image::detail
