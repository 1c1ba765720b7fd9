#include "parse_context.hpp"

#include "sconectl/manifest/names.hpp"
#include "yaml_syntax.hpp"

#include <algorithm>
#include <regex>

namespace sconectl::manifest::detail {

namespace {

// Bounds the work a YAML file can cause through aliases that refer to aliases ("billion laughs").
constexpr std::size_t k_max_json_nodes = 100000;

std::string join(const std::vector<std::string>& words, std::string_view separator)
{
  std::string text;
  for (const auto& word : words) {
    if (!text.empty()) {
      text += separator;
    }
    text += word;
  }
  return text;
}

// `{{NAME}}` unquoted is a YAML flow mapping whose only key is another mapping.
bool looks_like_unquoted_template(const YAML::Node& node)
{
  if (!node.IsMap() || node.size() != 1) {
    return false;
  }
  const auto entry = node.begin();
  return entry->first.IsMap() && entry->first.size() == 1 && entry->second.IsNull();
}

// Messages are single lines: control characters from the input are shown escaped.
std::string printable(std::string text)
{
  std::string result;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char k_digits[] = "0123456789abcdef";
      result += "\\x";
      result += k_digits[byte >> 4];
      result += k_digits[byte & 0x0f];
    } else {
      result += c;
    }
  }
  return result;
}

// Bounds the output for a badly broken file; the first problems are the useful ones.
constexpr std::size_t k_max_diagnostics = 100;

}  // namespace

SourcePosition position_of(const YAML::Node& node)
{
  const auto mark = node.Mark();
  if (mark.is_null()) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

std::string join_path(const std::string& parent, std::string_view key)
{
  if (parent.empty()) {
    return std::string(key);
  }
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index)
{
  return parent + "[" + std::to_string(index) + "]";
}

std::string describe_node(const YAML::Node& node)
{
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
  }
  return "nothing";
}

ParseContext::ParseContext(std::string file, const LoadOptions& options, Expand expand)
    : m_file(std::move(file)), m_options(options), m_expand(expand)
{
}

void ParseContext::error(SourcePosition at, std::string path, std::string message)
{
  // A field whose variables were undefined or malformed, or that held a NUL, has had its one
  // error; anything found later about its (incomplete) value would be noise.
  if (m_paths_with_variable_problems.count(path) > 0) {
    return;
  }
  add_error(at, std::move(path), std::move(message));
}

void ParseContext::add_error(SourcePosition at, std::string path, std::string message)
{
  m_diagnostics.push_back(Diagnostic{.severity = Severity::error,
                                     .file = m_file,
                                     .line = at.line,
                                     .column = at.column,
                                     .path = printable(std::move(path)),
                                     .message = printable(std::move(message))});
}

void ParseContext::warning(SourcePosition at, std::string path, std::string message)
{
  const auto severity =
      m_options.strictness == Strictness::strict ? Severity::error : Severity::warning;
  m_diagnostics.push_back(Diagnostic{.severity = severity,
                                     .file = m_file,
                                     .line = at.line,
                                     .column = at.column,
                                     .path = printable(std::move(path)),
                                     .message = printable(std::move(message))});
}

std::string ParseContext::expand(const std::string& raw,
                                 SourcePosition at,
                                 const std::string& path,
                                 Sensitivity sensitivity)
{
  if (raw.find('\0') != std::string::npos) {
    error(at,
          path,
          "contains a NUL character, which no environment variable, command line or "
          "file name can carry");
    m_paths_with_variable_problems.insert(path);
  }
  if (m_expand == Expand::nothing || raw.find('$') == std::string::npos) {
    return raw;
  }
  const bool secret = sensitivity == Sensitivity::secret;
  for (auto& use : find_variables(raw)) {
    const bool is_set = m_options.variables && m_options.variables(use.name).has_value();
    // A `$word` inside a secret value may be part of the secret rather than a variable.
    if (secret && !is_set) {
      continue;
    }
    if (secret && use.default_value) {
      use.default_value = "(hidden: part of a secret value)";
    }
    m_variables.push_back(VariableOccurrence{
        .use = std::move(use), .file = m_file, .at = at, .path = path, .is_set = is_set});
  }
  auto expansion = expand_variables(raw, m_options.variables);
  const bool flagged = !expansion.problems.empty() || !expansion.undefined.empty();
  if (secret) {
    if (!expansion.problems.empty()
        || (!expansion.undefined.empty()
            && m_options.undefined_variables == UndefinedVariables::report)) {
      error(at,
            path,
            "contains a '$' that is not a defined variable reference; write $$ for a literal $ "
            "(the value is not shown because it is secret)");
    }
    if (flagged) {
      m_paths_with_variable_problems.insert(path);
    }
    return std::move(expansion.text);
  }
  for (const auto& problem : expansion.problems) {
    error(at, path, problem);
  }
  if (flagged) {
    m_paths_with_variable_problems.insert(path);
  }
  if (!expansion.undefined.empty()) {
    if (!m_first_undefined_at) {
      m_first_undefined_at = std::make_pair(at, path);
    }
    for (auto& name : expansion.undefined) {
      if (std::find(m_undefined.begin(), m_undefined.end(), name) == m_undefined.end()) {
        m_undefined.push_back(std::move(name));
      }
    }
  }
  return std::move(expansion.text);
}

bool ParseContext::has_variable_problem(const std::string& path) const
{
  return m_paths_with_variable_problems.count(path) > 0;
}

void ParseContext::finish(LoadReport& report)
{
  if (!m_undefined.empty() && m_options.undefined_variables == UndefinedVariables::report) {
    auto names = m_undefined;
    std::sort(names.begin(), names.end());
    add_error(m_first_undefined_at->first,
              m_first_undefined_at->second,
              std::string(names.size() == 1 ? "undefined environment variable: "
                                            : "undefined environment variables: ")
                  + join(names, ", ") + (names.size() == 1 ? " (export it" : " (export them")
                  + ", or write ${NAME:-default} in the manifest)");
  }
  std::stable_sort(m_diagnostics.begin(), m_diagnostics.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  const auto total = m_diagnostics.size();
  if (total > k_max_diagnostics) {
    m_diagnostics.resize(k_max_diagnostics);
  }
  for (auto& diagnostic : m_diagnostics) {
    report.diagnostics.push_back(std::move(diagnostic));
  }
  if (total > k_max_diagnostics) {
    report.diagnostics.push_back(Diagnostic{
        .severity = Severity::error,
        .file = m_file,
        .message = std::to_string(total - k_max_diagnostics) + " more problems not shown"});
  }
  m_diagnostics.clear();
  for (auto& occurrence : m_variables) {
    report.variables.push_back(std::move(occurrence));
  }
  m_variables.clear();
}

MapReader::MapReader(const YAML::Node& node, std::string path, ParseContext& context)
    : m_path(std::move(path)), m_position(position_of(node)), m_context(&context)
{
  for (const auto& pair : node) {
    const auto& key = pair.first;
    if (!key.IsScalar()) {
      context.error(
          position_of(key), m_path, "field names must be plain strings, got " + describe_node(key));
      continue;
    }
    const auto& name = key.Scalar();
    const auto existing = std::find_if(
        m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == name; });
    if (existing != m_entries.end()) {
      context.error(position_of(key),
                    join_path(m_path, name),
                    "duplicate field (first defined at line "
                        + std::to_string(position_of(existing->second.key).line) + ")");
      continue;
    }
    m_entries.emplace_back(name, Entry{pair.first, pair.second});
  }
}

bool MapReader::has(const std::string& key) const
{
  return std::any_of(m_entries.begin(), m_entries.end(), [&](const auto& e) {
    return e.first == key && !e.second.value.IsNull();
  });
}

const MapReader::Entry* MapReader::find(const std::string& key, Need need)
{
  m_asked.insert(key);
  const auto found = std::find_if(
      m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == key; });
  if (found == m_entries.end()) {
    if (need == Need::required) {
      m_context->error(m_position, path_of(key), "required field is missing");
    }
    return nullptr;
  }
  if (found->second.value.IsNull()) {
    if (need == Need::required) {
      m_context->error(position_of(found->second.key), path_of(key), "required field has no value");
    }
    return nullptr;
  }
  return &found->second;
}

SourcePosition MapReader::position_of_field(const std::string& key) const
{
  const auto found = std::find_if(
      m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == key; });
  if (found == m_entries.end()) {
    return m_position;
  }
  const auto& entry = found->second;
  return entry.value.IsNull() ? position_of(entry.key) : position_of(entry.value);
}

FieldPositions MapReader::positions() const
{
  FieldPositions positions{.path = m_path, .self = m_position};
  for (const auto& [name, entry] : m_entries) {
    positions.fields[name] =
        entry.value.IsNull() ? position_of(entry.key) : position_of(entry.value);
  }
  return positions;
}

std::optional<std::string> MapReader::scalar_text(const std::string& key,
                                                  const Entry& entry,
                                                  std::string_view expected,
                                                  ParseContext::Sensitivity sensitivity)
{
  if (!entry.value.IsScalar()) {
    std::string message =
        "expected " + std::string(expected) + ", got " + describe_node(entry.value);
    if (looks_like_unquoted_template(entry.value)) {
      message += "; put {{...}} in quotes, YAML reads it unquoted as a mapping";
    }
    m_context->error(position_of(entry.value), path_of(key), std::move(message));
    return std::nullopt;
  }
  return m_context->expand(
      entry.value.Scalar(), position_of(entry.value), path_of(key), sensitivity);
}

std::optional<std::string> MapReader::secret_string(const std::string& key)
{
  const auto* entry = find(key, Need::optional);
  if (entry == nullptr) {
    return std::nullopt;
  }
  return scalar_text(key, *entry, "a string", ParseContext::Sensitivity::secret);
}

std::optional<std::string> MapReader::string(const std::string& key, Need need)
{
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return std::nullopt;
  }
  auto text = scalar_text(key, *entry, "a string");
  if (text && text->empty() && need == Need::required
      && !m_context->has_variable_problem(path_of(key))) {
    m_context->error(position_of(entry->value), path_of(key), "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<std::uint64_t> MapReader::unsigned_integer(const std::string& key,
                                                         std::uint64_t min,
                                                         std::uint64_t max,
                                                         Need need)
{
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return std::nullopt;
  }
  const auto text = scalar_text(key, *entry, "an integer");
  if (!text) {
    return std::nullopt;
  }
  const auto at = position_of(entry->value);
  const bool digits_only =
      !text->empty() && text->size() <= 19
      && std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) {
    if (!m_context->has_variable_problem(path_of(key))) {
      m_context->error(at,
                       path_of(key),
                       "expected a whole number from " + std::to_string(min) + " to "
                           + std::to_string(max) + ", got '" + *text + "'");
    }
    return std::nullopt;
  }
  const auto value = std::stoull(*text);
  if (value < min || value > max) {
    m_context->error(at,
                     path_of(key),
                     "expected a whole number from " + std::to_string(min) + " to "
                         + std::to_string(max) + ", got '" + *text + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> MapReader::boolean(const std::string& key, Need need)
{
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return std::nullopt;
  }
  const auto text = scalar_text(key, *entry, "true or false");
  if (!text) {
    return std::nullopt;
  }
  std::string lower = *text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (lower == "true") {
    return true;
  }
  if (lower == "false") {
    return false;
  }
  m_context->error(
      position_of(entry->value), path_of(key), "expected true or false, got '" + *text + "'");
  return std::nullopt;
}

std::vector<std::pair<YAML::Node, std::string>> MapReader::list(const std::string& key, Need need)
{
  std::vector<std::pair<YAML::Node, std::string>> items;
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return items;
  }
  if (!entry->value.IsSequence()) {
    m_context->error(position_of(entry->value),
                     path_of(key),
                     "expected a list, got " + describe_node(entry->value));
    return items;
  }
  std::size_t index = 0;
  for (const auto& item : entry->value) {
    items.emplace_back(item, index_path(path_of(key), index));
    ++index;
  }
  return items;
}

std::vector<std::string> MapReader::string_list(const std::string& key, Need need)
{
  std::vector<std::string> values;
  for (const auto& [item, item_path] : list(key, need)) {
    if (auto text = as_string(item, item_path, *m_context)) {
      values.push_back(std::move(*text));
    }
  }
  return values;
}

std::optional<MapReader> MapReader::map(const std::string& key, Need need)
{
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return std::nullopt;
  }
  return as_map(entry->value, path_of(key), *m_context);
}

std::optional<YAML::Node> MapReader::raw(const std::string& key)
{
  const auto* entry = find(key, Need::optional);
  if (entry == nullptr) {
    return std::nullopt;
  }
  return entry->value;
}

void MapReader::report_unknown_fields()
{
  for (const auto& [name, entry] : m_entries) {
    if (m_asked.count(name) > 0) {
      continue;
    }
    std::string message = "unknown field '" + name + "'";
    const auto suggestion = closest_match(name, m_asked);
    if (!suggestion.empty()) {
      message += " (did you mean '" + suggestion + "'?)";
    }
    m_context->warning(position_of(entry.key), m_path, std::move(message));
  }
}

std::optional<MapReader> as_map(const YAML::Node& node,
                                const std::string& path,
                                ParseContext& context)
{
  if (!node.IsMap()) {
    context.error(position_of(node), path, "expected a mapping, got " + describe_node(node));
    return std::nullopt;
  }
  return MapReader(node, path, context);
}

std::optional<std::string> as_string(const YAML::Node& node,
                                     const std::string& path,
                                     ParseContext& context)
{
  if (!node.IsScalar()) {
    std::string message = "expected a string, got " + describe_node(node);
    if (looks_like_unquoted_template(node)) {
      message += "; put {{...}} in quotes, YAML reads it unquoted as a mapping";
    }
    context.error(position_of(node), path, std::move(message));
    return std::nullopt;
  }
  return context.expand(node.Scalar(), position_of(node), path);
}

namespace {

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

std::optional<nlohmann::json> convert(const YAML::Node& node,
                                      const std::string& path,
                                      ParseContext& context,
                                      std::size_t& budget)
{
  if (budget == 0) {
    return std::nullopt;
  }
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nlohmann::json(nullptr);
    case YAML::NodeType::Scalar:
      return scalar_to_json(node, context.expand(node.Scalar(), position_of(node), path));
    case YAML::NodeType::Sequence: {
      auto array = nlohmann::json::array();
      std::size_t index = 0;
      for (const auto& item : node) {
        auto value = convert(item, index_path(path, index++), context, budget);
        if (!value) {
          return std::nullopt;
        }
        array.push_back(std::move(*value));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      auto object = nlohmann::json::object();
      for (const auto& pair : node) {
        if (!pair.first.IsScalar()) {
          context.error(position_of(pair.first), path, "field names must be plain strings");
          return std::nullopt;
        }
        auto value = convert(pair.second, join_path(path, pair.first.Scalar()), context, budget);
        if (!value) {
          return std::nullopt;
        }
        object[pair.first.Scalar()] = std::move(*value);
      }
      return object;
    }
  }
  return std::nullopt;
}

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

std::optional<nlohmann::json> to_json(const YAML::Node& node,
                                      const std::string& path,
                                      ParseContext& context)
{
  std::size_t budget = k_max_json_nodes;
  auto value = convert(node, path, context, budget);
  if (!value && budget == 0) {
    context.error(position_of(node),
                  path,
                  "too large: more than " + std::to_string(k_max_json_nodes)
                      + " values (after expanding YAML aliases)");
  }
  return value;
}

}  // namespace sconectl::manifest::detail
