#include "parse_context.hpp"
#include "sconectl/manifest/names.hpp"

#include <algorithm>

namespace sconectl::manifest::detail {

namespace {

// `{{NAME}}` unquoted is a YAML flow mapping whose only key is another mapping.
bool looks_like_unquoted_template(const yaml::Node& node)
{
  if (!node.is_map() || node.size() != 1) {
    return false;
  }
  const auto entries = node.entries();
  const auto& [key, value] = entries.front();
  return key.is_map() && key.size() == 1 && value.is_null();
}

}  // namespace

MapReader::MapReader(const yaml::Node& node, std::string path, ParseContext& context)
    : m_path(std::move(path)), m_position(position_of(node)), m_context(&context)
{
  for (const auto& [key, value] : node.entries()) {
    if (!key.is_scalar()) {
      context.error(
          position_of(key), m_path, "field names must be plain strings, got " + describe_node(key));
      continue;
    }
    const auto& name = key.scalar();
    const auto existing = std::find_if(
        m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == name; });
    if (existing != m_entries.end()) {
      context.error(position_of(key),
                    join_path(m_path, name),
                    "duplicate field (first defined at line "
                        + std::to_string(position_of(existing->second.key).line) + ")");
      continue;
    }
    m_entries.emplace_back(name, Entry{key, value});
  }
}

bool MapReader::has_key(const std::string& key) const
{
  return std::any_of(
      m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == key; });
}

bool MapReader::has(const std::string& key) const
{
  return std::any_of(m_entries.begin(), m_entries.end(), [&](const auto& e) {
    return e.first == key && !e.second.value.is_null();
  });
}

const MapReader::Entry* MapReader::find(const std::string& key, Need need)
{
  m_asked.insert(key);
  const auto found = std::find_if(
      m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == key; });
  if (found == m_entries.end()) {
    if (need != Need::optional) {
      m_context->error(m_position, path_of(key), "required field is missing");
    }
    return nullptr;
  }
  if (found->second.value.is_null()) {
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
  return entry.value.is_null() ? position_of(entry.key) : position_of(entry.value);
}

FieldPositions MapReader::positions() const
{
  FieldPositions positions{.path = m_path, .self = m_position};
  for (const auto& [name, entry] : m_entries) {
    positions.fields[name] =
        entry.value.is_null() ? position_of(entry.key) : position_of(entry.value);
  }
  return positions;
}

std::optional<std::string> MapReader::scalar_text(const std::string& key,
                                                  const Entry& entry,
                                                  std::string_view expected,
                                                  ParseContext::Sensitivity sensitivity,
                                                  ScalarKind kind)
{
  if (!entry.value.is_scalar()) {
    std::string message =
        "expected " + std::string(expected) + ", got " + describe_node(entry.value, sensitivity);
    if (looks_like_unquoted_template(entry.value)) {
      message += "; put {{...}} in quotes, YAML reads it unquoted as a mapping";
    }
    m_context->error(position_of(entry.value), path_of(key), std::move(message));
    return std::nullopt;
  }
  return m_context->expand(
      scalar_of(entry.value, kind), position_of(entry.value), path_of(key), sensitivity);
}

std::optional<std::string> MapReader::secret_string(const std::string& key)
{
  const auto* entry = find(key, Need::optional);
  if (entry == nullptr) {
    return std::nullopt;
  }
  return scalar_text(key, *entry, "a string", ParseContext::Sensitivity::secret, ScalarKind::text);
}

std::optional<std::string> MapReader::string(const std::string& key, Need need)
{
  return string_field(key, need, ScalarKind::token);
}

std::optional<std::string> MapReader::text(const std::string& key, Need need)
{
  return string_field(key, need, ScalarKind::text);
}

std::optional<std::string> MapReader::string_field(const std::string& key,
                                                   Need need,
                                                   ScalarKind kind)
{
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    const bool written_empty = need == Need::present && has_key(key);
    return written_empty ? std::optional<std::string>("") : std::nullopt;
  }
  auto text = scalar_text(key, *entry, "a string", ParseContext::Sensitivity::plain, kind);
  if (text && text->empty() && need == Need::required
      && !m_context->has_variable_problem(path_of(key))) {
    m_context->error(position_of(entry->value), path_of(key), "must not be empty");
    return std::nullopt;
  }
  // An optional name, path or mode left empty (`mode: $MODE` with MODE="", as envsubst
  // templates leave them) is not given, as a null would be.
  if (text && text->empty() && need == Need::optional && kind == ScalarKind::token) {
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
  if (!text || (text->empty() && need == Need::optional)) {
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
                           + std::to_string(max) + ", got " + quoted_excerpt(*text));
    }
    return std::nullopt;
  }
  const auto value = std::stoull(*text);
  if (value < min || value > max) {
    m_context->error(at,
                     path_of(key),
                     "expected a whole number from " + std::to_string(min) + " to "
                         + std::to_string(max) + ", got " + quoted_excerpt(*text));
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
  if (!text || (text->empty() && need == Need::optional)) {
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
  m_context->error(position_of(entry->value),
                   path_of(key),
                   "expected true or false, got " + quoted_excerpt(*text));
  return std::nullopt;
}

std::vector<std::pair<yaml::Node, std::string>> MapReader::list(const std::string& key, Need need)
{
  std::vector<std::pair<yaml::Node, std::string>> items;
  const auto* entry = find(key, need);
  if (entry == nullptr) {
    return items;
  }
  if (!entry->value.is_sequence()) {
    m_context->error(position_of(entry->value),
                     path_of(key),
                     "expected a list, got " + describe_node(entry->value));
    return items;
  }
  std::size_t index = 0;
  for (auto& item : entry->value.items()) {
    items.emplace_back(std::move(item), index_path(path_of(key), index));
    ++index;
  }
  return items;
}

std::vector<std::string> MapReader::string_list(const std::string& key, Need need, ScalarKind kind)
{
  std::vector<std::string> values;
  for (const auto& [item, item_path] : list(key, need)) {
    if (auto text = as_string(item, item_path, *m_context, kind)) {
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

std::optional<yaml::Node> MapReader::raw(const std::string& key)
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

std::optional<MapReader> as_map(const yaml::Node& node,
                                const std::string& path,
                                ParseContext& context,
                                ParseContext::Sensitivity sensitivity)
{
  if (!node.is_map()) {
    context.error(
        position_of(node), path, "expected a mapping, got " + describe_node(node, sensitivity));
    return std::nullopt;
  }
  return MapReader(node, path, context);
}

std::string scalar_of(const yaml::Node& node, ScalarKind kind)
{
  std::string text = node.scalar();
  if (kind == ScalarKind::token) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
  }
  return text;
}

std::optional<std::string> as_string(const yaml::Node& node,
                                     const std::string& path,
                                     ParseContext& context,
                                     ScalarKind kind)
{
  if (!node.is_scalar()) {
    std::string message = "expected a string, got " + describe_node(node);
    if (looks_like_unquoted_template(node)) {
      message += "; put {{...}} in quotes, YAML reads it unquoted as a mapping";
    }
    context.error(position_of(node), path, std::move(message));
    return std::nullopt;
  }
  return context.expand(scalar_of(node, kind), position_of(node), path);
}

}  // namespace sconectl::manifest::detail
