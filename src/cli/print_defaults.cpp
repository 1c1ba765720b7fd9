#include "print_defaults.hpp"

#include "sconectl/manifest/variables.hpp"

#include <iomanip>
#include <set>

namespace sconectl::cli {

namespace {

nlohmann::json environment_variables(const manifest::LoadReport& report)
{
  auto list = nlohmann::json::array();
  std::set<std::string> seen;
  for (const auto& occurrence : report.variables) {
    if (!seen.insert(occurrence.use.name).second) {
      continue;
    }
    list.push_back({{"name", occurrence.use.name},
                    {"default",
                     occurrence.use.default_value ? nlohmann::json(*occurrence.use.default_value)
                                                  : nlohmann::json(nullptr)},
                    {"set", occurrence.is_set},
                    {"first_use", occurrence.file + ":" + std::to_string(occurrence.at.line)}});
  }
  return list;
}

nlohmann::json service_variables(const manifest::ServiceManifest& service)
{
  auto list = nlohmann::json::array();
  for (const auto& variable : service.global_environment) {
    list.push_back(
        {{"name", variable.name},
         {"default", variable.value ? nlohmann::json(*variable.value) : nlohmann::json(nullptr)}});
  }
  std::set<std::string> declared;
  for (const auto& variable : service.global_environment) {
    declared.insert(variable.name);
  }
  auto add_references = [&](const std::string& text) {
    for (const auto& name : manifest::find_mesh_references(text)) {
      if (declared.insert(name).second) {
        list.push_back({{"name", name}, {"default", nullptr}});
      }
    }
  };
  for (const auto& variable : service.local_environment) {
    add_references(variable.value.value_or(""));
  }
  for (const auto& file : service.injection_files) {
    add_references(file.content);
  }
  return list;
}

nlohmann::json mesh_variables(const manifest::MeshManifest& mesh)
{
  auto blocks = nlohmann::json::object();
  for (const auto& block : mesh.environment) {
    auto values = nlohmann::json::object();
    for (const auto& variable : block.variables) {
      values[variable.name] = variable.value;
    }
    blocks[block.service] = values;
  }
  return blocks;
}

void print_table(std::ostream& out, const nlohmann::json& rows, bool with_set)
{
  std::size_t width = 0;
  for (const auto& row : rows) {
    width = std::max(width, row["name"].get<std::string>().size());
  }
  for (const auto& row : rows) {
    out << "  " << std::left << std::setw(static_cast<int>(width + 2))
        << row["name"].get<std::string>();
    if (row["default"].is_null()) {
      out << "required";
    } else {
      const auto value = row["default"].get<std::string>();
      out << "default: " << (value.empty() ? "\"\" (empty)" : value);
    }
    if (with_set) {
      out << (row["set"].get<bool>() ? "  (set)" : "  (not set)");
    }
    out << '\n';
  }
}

}  // namespace

nlohmann::json describe_variables(const manifest::LoadReport& report)
{
  nlohmann::json description{
      {"file", report.diagnostics.empty() ? "" : report.diagnostics.front().file},
      {"environment", environment_variables(report)}};
  if (!report.document) {
    return description;
  }
  std::visit(
      [&](const auto& document) {
        using T = std::decay_t<decltype(document)>;
        description["file"] = document.source;
        if constexpr (std::is_same_v<T, manifest::ServiceManifest>) {
          description["kind"] = "genservice";
          description["mesh_variables"] = service_variables(document);
        } else {
          description["kind"] = "mesh";
          description["mesh_env"] = mesh_variables(document);
        }
      },
      *report.document);
  return description;
}

void print_variables(std::ostream& out, const nlohmann::json& description)
{
  out << "Environment variables used by " << description["file"].get<std::string>()
      << " (expanded by sconectl):\n";
  if (description["environment"].empty()) {
    out << "  (none)\n";
  }
  print_table(out, description["environment"], true);
  if (description.contains("mesh_variables")) {
    out << "Variables the mesh sets (environment.global and {{NAME}} references):\n";
    if (description["mesh_variables"].empty()) {
      out << "  (none)\n";
    }
    print_table(out, description["mesh_variables"], false);
  }
  if (description.contains("mesh_env")) {
    out << "Values this mesh sets, by service (service values override helm, helm overrides "
           "global):\n";
    for (const auto& [service, values] : description["mesh_env"].items()) {
      out << "  " << service << ":\n";
      for (const auto& [name, value] : values.items()) {
        out << "    " << name << " = " << value.get<std::string>() << '\n';
      }
    }
  }
}

}  // namespace sconectl::cli
