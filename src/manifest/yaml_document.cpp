#include "yaml_document.hpp"

#include "sconectl/util/yaml_tree.hpp"

#include <yaml-cpp/depthguard.h>

namespace sconectl::manifest::detail {

// yaml-cpp throws on syntax errors; the mark says where.
std::optional<YAML::Node> load_yaml_document(std::string_view text, ParseContext& context)
{
  if (const auto problem = yaml::check_syntax(text)) {
    context.error({problem->at.line, problem->at.column}, "", problem->message);
    return std::nullopt;
  }
  try {
    auto documents = YAML::LoadAll(std::string(text));
    if (documents.empty() || (documents.size() == 1 && documents.front().IsNull())) {
      context.error({},
                    "",
                    "the file holds no YAML document (it is empty or only comments); "
                    "expected a genservice or mesh manifest");
      return std::nullopt;
    }
    if (documents.size() > 1) {
      context.error(position_of(documents[1]),
                    "",
                    "expected one YAML document, found " + std::to_string(documents.size())
                        + " (separated by ---)");
      return std::nullopt;
    }
    if (auto too_large = yaml::check_expanded_size(documents.front(), text.size())) {
      context.error(position_of(too_large->node), "", too_large->message);
      return std::nullopt;
    }
    return documents.front();
  } catch (const YAML::Exception& e) {
    const SourcePosition at =
        e.mark.is_null() ? SourcePosition{} : SourcePosition{e.mark.line + 1, e.mark.column + 1};
    context.error(at, "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    context.error({}, "", std::string("invalid YAML: ") + e.what());
  }
  return std::nullopt;
}

std::optional<YAML::Node> load_embedded_yaml(const std::string& text,
                                             SourcePosition at,
                                             const std::string& path,
                                             ParseContext& context)
{
  try {
    auto node = YAML::Load(text);
    if (auto too_large = yaml::check_expanded_size(node, text.size())) {
      context.error(at, path, too_large->message);
      return std::nullopt;
    }
    return node;
  } catch (const YAML::DeepRecursion&) {
    // yaml-cpp says only "bad file". It gives up far beyond yaml::k_max_depth; to_json reports
    // nesting between the two limits with the same message.
    context.error(at, path, "nested deeper than " + std::to_string(yaml::k_max_depth) + " levels");
  } catch (const YAML::Exception& e) {
    context.error(at, path, "not valid YAML: " + e.msg);
  }
  return std::nullopt;
}

std::optional<nlohmann::json> to_json(const YAML::Node& node,
                                      const std::string& path,
                                      ParseContext& context,
                                      std::optional<SourcePosition> at)
{
  // Scalars are reported at their own line, or, for YAML parsed from a string field, at the field.
  const auto where = [&](const YAML::Node& of) { return at ? *at : position_of(of); };
  const yaml::ScalarText expand = [&](const YAML::Node& scalar, const std::string& scalar_path) {
    return context.expand(scalar.Scalar(), where(scalar), scalar_path);
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
