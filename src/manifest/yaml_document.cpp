#include "yaml_document.hpp"

#include "yaml_syntax.hpp"

#include <yaml-cpp/depthguard.h>

#include <regex>
#include <vector>

namespace sconectl::manifest::detail {

namespace {

// Bounds the work a YAML file can cause through aliases that refer to aliases ("billion laughs").
constexpr std::size_t k_max_json_nodes = 100000;

nlohmann::json scalar_to_json(const YAML::Node& node, std::string text)
{
  // Quoted scalars carry the "!" tag in yaml-cpp; they always stay strings.
  if (node.Tag() == "!") {
    return text;
  }
  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex floating(R"([-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)");
  if (text == "true" || text == "false") {
    return text == "true";
  }
  if (text == "null" || text == "~") {
    return nullptr;
  }
  if (std::regex_match(text, integer) && text.size() < 19) {
    return std::stoll(text);
  }
  if (std::regex_match(text, floating)) {
    return std::stod(text);
  }
  return text;
}

// One mapping or list being converted, and the path it was reached by.
struct Level {
  const YAML::Node* node;
  const std::string* path;
};

// Walks a YAML subtree, bounded in size (`budget`) and depth (`levels`, the enclosing mappings
// and lists). The first problem stops the walk.
class Converter {
 public:
  Converter(ParseContext& context, std::optional<SourcePosition> at) : m_context(context), m_at(at)
  {
  }

  std::optional<nlohmann::json> convert(const YAML::Node& node, const std::string& path)
  {
    if (m_budget == 0) {
      m_too_large = true;
      return std::nullopt;
    }
    --m_budget;
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar:
        return scalar_to_json(node, m_context.expand(node.Scalar(), where(node), path));
      case YAML::NodeType::Sequence:
      case YAML::NodeType::Map:
        break;
    }
    if (m_levels.size() >= static_cast<std::size_t>(k_max_yaml_depth)) {
      report_too_deep();
      return std::nullopt;
    }
    m_levels.push_back(Level{&node, &path});
    auto value = node.IsSequence() ? convert_sequence(node, path) : convert_map(node, path);
    m_levels.pop_back();
    return value;
  }

  [[nodiscard]] bool too_large() const { return m_too_large; }

 private:
  SourcePosition where(const YAML::Node& node) const { return m_at ? *m_at : position_of(node); }

  std::optional<nlohmann::json> convert_sequence(const YAML::Node& node, const std::string& path)
  {
    auto array = nlohmann::json::array();
    std::size_t index = 0;
    for (const auto& item : node) {
      auto value = convert(item, index_path(path, index++));
      if (!value) {
        return std::nullopt;
      }
      array.push_back(std::move(*value));
    }
    return array;
  }

  std::optional<nlohmann::json> convert_map(const YAML::Node& node, const std::string& path)
  {
    auto object = nlohmann::json::object();
    for (const auto& pair : node) {
      if (!pair.first.IsScalar()) {
        m_context.error(where(pair.first), path, "field names must be plain strings");
        return std::nullopt;
      }
      auto value = convert(pair.second, join_path(path, pair.first.Scalar()));
      if (!value) {
        return std::nullopt;
      }
      object[pair.first.Scalar()] = std::move(*value);
    }
    return object;
  }

  // An alias used inside its own anchor's value nests without end: the same node then appears
  // twice among the enclosing levels, and the message names the outer one.
  void report_too_deep()
  {
    for (std::size_t outer = 0; outer < m_levels.size(); ++outer) {
      const auto& anchored = *m_levels[outer].node;
      for (std::size_t inner = outer + 1; inner < m_levels.size(); ++inner) {
        if (m_levels[inner].node->is(anchored)) {
          m_context.error(where(anchored),
                          *m_levels[outer].path,
                          "a YAML alias (*name) is used inside the value of its own anchor "
                          "(&name), which would repeat without end");
          return;
        }
      }
    }
    const auto& top = m_levels.front();
    m_context.error(where(*top.node),
                    *top.path,
                    "nested deeper than " + std::to_string(k_max_yaml_depth) + " levels");
  }

  ParseContext& m_context;
  std::optional<SourcePosition> m_at;
  std::size_t m_budget = k_max_json_nodes;
  bool m_too_large = false;
  std::vector<Level> m_levels;
};

}  // namespace

// yaml-cpp throws on syntax errors; the mark says where.
std::optional<YAML::Node> load_yaml_document(std::string_view text, ParseContext& context)
{
  if (const auto problem = check_yaml_syntax(text)) {
    context.error(problem->at, "", problem->message);
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
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion&) {
    // yaml-cpp says only "bad file". It gives up far beyond k_max_yaml_depth; to_json reports
    // nesting between the two limits with the same message.
    context.error(at, path, "nested deeper than " + std::to_string(k_max_yaml_depth) + " levels");
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
  Converter converter(context, at);
  auto value = converter.convert(node, path);
  if (converter.too_large()) {
    context.error(at ? *at : position_of(node),
                  path,
                  "too large: more than " + std::to_string(k_max_json_nodes)
                      + " values (after expanding YAML aliases)");
  }
  return value;
}

}  // namespace sconectl::manifest::detail
