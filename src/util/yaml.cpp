#include "sconectl/util/yaml.hpp"

#include "../manifest/yaml_syntax.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>

namespace sconectl::yaml {

namespace {

void emit(YAML::Emitter& out, const nlohmann::ordered_json& value)
{
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
      if (value.empty()) {  // "{}" rather than a dangling key
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::ordered_json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) {
        emit(out, item);
      }
      out << YAML::EndSeq;
      break;
    case nlohmann::ordered_json::value_t::string:
      out << YAML::DoubleQuoted << value.get<std::string>();
      break;
    case nlohmann::ordered_json::value_t::boolean:
      out << value.get<bool>();
      break;
    case nlohmann::ordered_json::value_t::number_unsigned:
      out << value.get<std::uint64_t>();
      break;
    case nlohmann::ordered_json::value_t::number_integer:
      out << value.get<std::int64_t>();
      break;
    case nlohmann::ordered_json::value_t::number_float:
      out << value.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

// Aliases can make a small document expand enormously ("billion laughs"); a document that needs
// more nodes than this is refused rather than expanded. Sessions and values files are small.
constexpr std::size_t k_max_nodes = 200'000;
constexpr int k_max_depth = 64;

struct Converter {
  std::size_t nodes = 0;

  nlohmann::ordered_json convert(const YAML::Node& node, int depth)
  {
    if (++nodes > k_max_nodes) {
      throw std::runtime_error("the document has more than " + std::to_string(k_max_nodes)
                               + " values (aliases expanded)");
    }
    if (depth > k_max_depth) {
      throw std::runtime_error("the document nests deeper than " + std::to_string(k_max_depth)
                               + " levels (or an alias refers to itself)");
    }
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        nlohmann::ordered_json object = nlohmann::ordered_json::object();
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            throw std::runtime_error("a mapping key must be a plain value");
          }
          const auto key = entry.first.Scalar();
          if (object.contains(key)) {
            throw std::runtime_error("duplicate key '" + key + "'");
          }
          object[key] = convert(entry.second, depth + 1);
        }
        return object;
      }
      case YAML::NodeType::Sequence: {
        nlohmann::ordered_json array = nlohmann::ordered_json::array();
        for (const auto& item : node) {
          array.push_back(convert(item, depth + 1));
        }
        return array;
      }
      case YAML::NodeType::Scalar:
        return scalar(node);
      default:
        return nullptr;
    }
  }

  static nlohmann::ordered_json scalar(const YAML::Node& node)
  {
    const auto& text = node.Scalar();
    if (node.Tag() == "!") {  // quoted: always a string
      return text;
    }
    if (text == "true" || text == "false") {
      return text == "true";
    }
    if (text == "~" || text == "null") {
      return nullptr;
    }
    if (!text.empty() && text.size() < 20
        && text.find_first_not_of("0123456789") == std::string::npos) {
      return std::stoull(text);
    }
    return text;
  }
};

}  // namespace

std::string to_yaml(const nlohmann::ordered_json& document)
{
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, document);
  return std::string(out.c_str()) + "\n";
}

Result<nlohmann::ordered_json> parse_yaml(std::string_view text)
{
  if (const auto problem = manifest::detail::check_yaml_syntax(text)) {
    return fail(ErrorKind::manifest,
                "line " + std::to_string(problem->at.line) + ", column "
                    + std::to_string(problem->at.column) + ": " + problem->message);
  }
  try {
    const auto root = YAML::Load(std::string(text));
    if (!root.IsMap()) {
      return fail(ErrorKind::manifest, "expected a YAML mapping at the top");
    }
    Converter converter;
    return converter.convert(root, 0);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::manifest,
                "line " + std::to_string(e.mark.line + 1) + ", column "
                    + std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return fail(ErrorKind::manifest, e.what());
  }
}

}  // namespace sconectl::yaml
