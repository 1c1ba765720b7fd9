#include "sconectl/yaml/convert.hpp"

#include "sconectl/yaml/tree.hpp"
#include "yaml_cpp_node.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

namespace sconectl::yaml {

namespace {

// Advances `at` over digits and returns how many there were. std::regex is slow enough in
// libstdc++ to show on every scalar of every session a CAS reads, so these are written out.
std::size_t digits(std::string_view text, std::size_t& at)
{
  const auto start = at;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    ++at;
  }
  return at - start;
}

void skip_sign(std::string_view text, std::size_t& at)
{
  if (at < text.size() && (text[at] == '-' || text[at] == '+')) {
    ++at;
  }
}

// [-+]?[0-9]+
bool is_integer(std::string_view text)
{
  std::size_t at = 0;
  skip_sign(text, at);
  return digits(text, at) > 0 && at == text.size();
}

// [-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?
bool is_decimal(std::string_view text)
{
  std::size_t at = 0;
  skip_sign(text, at);
  const auto whole = digits(text, at);
  if (at == text.size() || text[at] != '.') {
    return false;
  }
  ++at;
  const auto fraction = digits(text, at);
  if (whole == 0 && fraction == 0) {
    return false;
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    skip_sign(text, at);
    if (digits(text, at) == 0) {
      return false;
    }
  }
  return at == text.size();
}

nlohmann::ordered_json typed_scalar(const YAML::Node& node, std::string text)
{
  // Quoted scalars carry the "!" tag in yaml-cpp; they always stay strings.
  if (node.Tag() == "!") {
    return text;
  }
  return typed_plain_scalar(std::move(text));
}

std::string join(const std::string& parent, const std::string& key)
{
  return parent.empty() ? key : parent + "." + key;
}

// A TreeProblem while the walk is on yaml-cpp's nodes.
struct RawProblem {
  YAML::Node node;
  std::string path;
  std::string message;
};

TreeProblem wrapped(const RawProblem& problem)
{
  return {.node = wrap(problem.node), .path = problem.path, .message = problem.message};
}

// Walks a subtree, bounded in size (`m_budget`) and depth (`m_levels`, the enclosing mappings and
// lists). The first problem stops the walk.
class TreeConverter {
 public:
  explicit TreeConverter(const ScalarText& scalar_text) : m_scalar_text(scalar_text) {}

  std::optional<nlohmann::ordered_json> convert(const YAML::Node& node, const std::string& path)
  {
    if (m_budget == 0) {
      m_too_large = true;
      return std::nullopt;
    }
    --m_budget;
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nlohmann::ordered_json(nullptr);
      case YAML::NodeType::Scalar:
        return typed_scalar(node, m_scalar_text ? m_scalar_text(wrap(node), path) : node.Scalar());
      case YAML::NodeType::Sequence:
      case YAML::NodeType::Map:
        break;
    }
    if (m_levels.size() >= static_cast<std::size_t>(k_max_depth)) {
      report_too_deep();
      return std::nullopt;
    }
    m_levels.push_back(Level{node, path});
    auto value = node.IsSequence() ? convert_sequence(node, path) : convert_map(node, path);
    m_levels.pop_back();
    return value;
  }

  [[nodiscard]] bool too_large() const { return m_too_large; }
  [[nodiscard]] const std::optional<RawProblem>& problem() const { return m_problem; }

 private:
  struct Level {
    YAML::Node node;
    std::string path;
  };

  std::optional<nlohmann::ordered_json> convert_sequence(const YAML::Node& node,
                                                         const std::string& path)
  {
    auto array = nlohmann::ordered_json::array();
    std::size_t index = 0;
    for (const auto& item : node) {
      auto value = convert(item, path + "[" + std::to_string(index++) + "]");
      if (!value) {
        return std::nullopt;
      }
      array.push_back(std::move(*value));
    }
    return array;
  }

  std::optional<nlohmann::ordered_json> convert_map(const YAML::Node& node, const std::string& path)
  {
    auto object = nlohmann::ordered_json::object();
    for (const auto& pair : node) {
      if (!pair.first.IsScalar()) {
        m_problem = RawProblem{pair.first, path, "field names must be plain strings"};
        return std::nullopt;
      }
      const auto& key = pair.first.Scalar();
      if (object.contains(key)) {
        m_problem = RawProblem{pair.first, path, "duplicate key '" + key + "'"};
        return std::nullopt;
      }
      auto value = convert(pair.second, join(path, key));
      if (!value) {
        return std::nullopt;
      }
      object[key] = std::move(*value);
    }
    return object;
  }

  // An alias used inside its own anchor's value nests without end: the same node then appears
  // twice among the enclosing levels, and the message names the outer one.
  void report_too_deep()
  {
    for (std::size_t outer = 0; outer < m_levels.size(); ++outer) {
      const auto& anchored = m_levels[outer].node;
      for (std::size_t inner = outer + 1; inner < m_levels.size(); ++inner) {
        if (m_levels[inner].node.is(anchored)) {
          m_problem = RawProblem{anchored,
                                 m_levels[outer].path,
                                 "a YAML alias (*name) is used inside the value of its own anchor "
                                 "(&name), which would repeat without end"};
          return;
        }
      }
    }
    m_problem = RawProblem{m_levels.front().node,
                           m_levels.front().path,
                           "nested deeper than " + std::to_string(k_max_depth) + " levels"};
  }

  const ScalarText& m_scalar_text;
  std::size_t m_budget = k_max_values;
  bool m_too_large = false;
  std::optional<RawProblem> m_problem;
  std::vector<Level> m_levels;
};

// Walks a tree as a reader would, aliases repeated, counting bytes until `m_limit` is passed.
class SizeWalker {
 public:
  explicit SizeWalker(std::size_t limit) : m_limit(limit) {}

  // False once the limit is passed; `m_over` is then the node where that happened.
  bool walk(const YAML::Node& node, int depth)
  {
    m_bytes += 1 + (node.IsScalar() ? node.Scalar().size() : 0);
    if (m_bytes > m_limit) {
      m_over.emplace(node);  // a copy refers to the same node; assigning would write into m_over
      return false;
    }
    if (depth >= k_max_depth) {
      return true;  // the readers refuse it, naming the nesting
    }
    if (node.IsSequence()) {
      for (const auto& item : node) {
        if (!walk(item, depth + 1)) {
          return false;
        }
      }
    } else if (node.IsMap()) {
      for (const auto& pair : node) {
        if (!walk(pair.first, depth + 1) || !walk(pair.second, depth + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  [[nodiscard]] const std::optional<YAML::Node>& over() const { return m_over; }

 private:
  std::size_t m_limit;
  std::size_t m_bytes = 0;
  std::optional<YAML::Node> m_over;
};

std::string at_line(const TextPosition& at)
{
  return "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) + ": ";
}

std::optional<RawProblem> expanded_size_problem(const YAML::Node& root, std::size_t input_bytes)
{
  const auto limit = max_expanded_bytes(input_bytes);
  SizeWalker walker(limit);
  if (walker.walk(root, 0)) {
    return std::nullopt;
  }
  return RawProblem{walker.over().value_or(root),
                    "",
                    "the document expands to more than " + std::to_string(limit)
                        + " bytes with its YAML aliases (*name) repeated: the limit on "
                          "expanded YAML bytes is "
                        + std::to_string(k_expanded_bytes_factor)
                        + " times the document's size, and at least "
                        + std::to_string(k_min_expanded_bytes)};
}

tl::expected<nlohmann::ordered_json, RawProblem> converted_tree(const YAML::Node& node,
                                                                const std::string& path,
                                                                const ScalarText& scalar_text)
{
  TreeConverter converter(scalar_text);
  auto value = converter.convert(node, path);
  if (converter.too_large()) {
    return tl::unexpected(RawProblem{node,
                                     path,
                                     "too large: more than " + std::to_string(k_max_values)
                                         + " values (after expanding YAML aliases)"});
  }
  if (!value) {
    return tl::unexpected(*converter.problem());
  }
  return std::move(*value);
}

}  // namespace

nlohmann::ordered_json typed_plain_scalar(std::string text)
{
  if (text == "true" || text == "false") {
    return text == "true";
  }
  if (text == "null" || text == "~") {
    return nullptr;
  }
  if (text.size() < 19 && is_integer(text)) {
    // Non-negative integers are unsigned, as nlohmann::json's own parser makes them: checks such
    // as "a size is a non-negative integer" then hold for YAML and JSON input alike.
    if (text.front() == '-') {
      return std::stoll(text);
    }
    return std::stoull(text);
  }
  if (is_decimal(text)) {
    errno = 0;
    const double number = std::strtod(text.c_str(), nullptr);
    if (errno != ERANGE) {  // 1e999 stays text: JSON has no infinity
      return number;
    }
  }
  return text;
}

std::optional<TreeProblem> check_expanded_size(const Node& root, std::size_t input_bytes)
{
  if (auto problem = expanded_size_problem(unwrap(root), input_bytes)) {
    return wrapped(*problem);
  }
  return std::nullopt;
}

tl::expected<nlohmann::ordered_json, TreeProblem> to_json_tree(const Node& node,
                                                               const std::string& path,
                                                               const ScalarText& scalar_text)
{
  return converted_tree(unwrap(node), path, scalar_text).map_error(wrapped);
}

Result<nlohmann::ordered_json> parse_yaml(std::string_view text)
{
  if (auto common = read_common_yaml(text)) {
    return std::move(*common);
  }
  return detail::parse_yaml_through_yaml_cpp(text);
}

namespace detail {

Result<nlohmann::ordered_json> parse_yaml_through_yaml_cpp(std::string_view text)
{
  if (const auto problem = check_syntax(text)) {
    return fail(ErrorKind::manifest, at_line(problem->at) + problem->message);
  }
  try {
    const auto root = YAML::Load(std::string(text));
    if (!root.IsMap()) {
      return fail(ErrorKind::manifest, "expected a YAML mapping at the top");
    }
    auto converted = [&]() -> tl::expected<nlohmann::ordered_json, RawProblem> {
      if (auto too_large = expanded_size_problem(root, text.size())) {
        return tl::unexpected(std::move(*too_large));
      }
      return converted_tree(root, "", {});
    }();
    if (!converted) {
      const auto& problem = converted.error();
      const auto at = position_of(problem.node);
      const auto where = at.line == 0 ? std::string() : at_line(at);
      return fail(ErrorKind::manifest,
                  where + (problem.path.empty() ? "" : problem.path + ": ") + problem.message);
    }
    return std::move(*converted);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::manifest, at_line({e.mark.line + 1, e.mark.column + 1}) + e.msg);
  } catch (const std::exception& e) {
    return fail(ErrorKind::manifest, e.what());
  }
}

}  // namespace detail

}  // namespace sconectl::yaml
