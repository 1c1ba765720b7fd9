#include "yaml_document.hpp"

#include "sconectl/yaml/tree.hpp"

namespace sconectl::manifest::detail {

std::optional<yaml::Node> load_yaml_document(std::string_view text, ParseContext& context)
{
  if (const auto problem = yaml::check_syntax(text)) {
    context.error({problem->at.line, problem->at.column}, "", problem->message);
    return std::nullopt;
  }
  const auto documents = yaml::load_all(text);
  if (!documents) {
    const auto& problem = documents.error();
    context.error({problem.at.line, problem.at.column}, "", "invalid YAML: " + problem.message);
    return std::nullopt;
  }
  if (documents->empty() || (documents->size() == 1 && documents->front().is_null())) {
    context.error({},
                  "",
                  "the file holds no YAML document (it is empty or only comments); "
                  "expected a genservice or mesh manifest");
    return std::nullopt;
  }
  if (documents->size() > 1) {
    context.error(position_of((*documents)[1]),
                  "",
                  "expected one YAML document, found " + std::to_string(documents->size())
                      + " (separated by ---)");
    return std::nullopt;
  }
  if (auto too_large = yaml::check_expanded_size(documents->front(), text.size())) {
    context.error(position_of(too_large->node), "", too_large->message);
    return std::nullopt;
  }
  return documents->front();
}

std::optional<yaml::Node> load_embedded_yaml(const std::string& text,
                                             SourcePosition at,
                                             const std::string& path,
                                             ParseContext& context)
{
  auto node = yaml::load(text);
  if (!node) {
    // For nesting, yaml-cpp says only "bad file". It gives up far beyond yaml::k_max_depth;
    // to_json reports nesting between the two limits with the same message.
    context.error(at,
                  path,
                  node.error().too_deep
                      ? "nested deeper than " + std::to_string(yaml::k_max_depth) + " levels"
                      : "not valid YAML: " + node.error().message);
    return std::nullopt;
  }
  if (auto too_large = yaml::check_expanded_size(*node, text.size())) {
    context.error(at, path, too_large->message);
    return std::nullopt;
  }
  return std::move(*node);
}

std::optional<nlohmann::json> to_json(const yaml::Node& node,
                                      const std::string& path,
                                      ParseContext& context,
                                      std::optional<SourcePosition> at)
{
  // Scalars are reported at their own line, or, for YAML parsed from a string field, at the field.
  const auto where = [&](const yaml::Node& of) { return at ? *at : position_of(of); };
  const yaml::ScalarText expand = [&](const yaml::Node& scalar, const std::string& scalar_path) {
    return context.expand(scalar.scalar(), where(scalar), scalar_path);
  };
  auto converted = yaml::to_json_tree(node, path, expand);
  if (!converted) {
    const auto& problem = converted.error();
    context.error(where(problem.node), problem.path, problem.message);
    return std::nullopt;
  }
  return nlohmann::json(std::move(*converted));
}

}  // namespace sconectl::manifest::detail
