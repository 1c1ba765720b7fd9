#include "parse_context.hpp"

#include "sconectl/util/strings.hpp"

#include <algorithm>

namespace sconectl::manifest::detail {

namespace {

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

// Longer values are cut in messages: a whole file read as one string (or a pasted key) would
// flood the output, and the start says which value is meant.
constexpr std::size_t k_max_quoted_bytes = 40;

// The first `max_bytes` of `text`, not cutting a UTF-8 sequence in two.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes)
{
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace

SourcePosition position_of(const yaml::Node& node)
{
  const auto at = node.position();
  return {at.line, at.column};
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

std::string quoted_excerpt(std::string_view text)
{
  const auto line_end = text.find_first_of("\r\n");
  const bool multi_line = line_end != std::string_view::npos
                          && text.find_first_not_of("\r\n", line_end) != std::string_view::npos;
  const auto shown = multi_line ? text.substr(0, line_end) : text;
  const auto prefix = utf8_prefix(shown, k_max_quoted_bytes);
  const bool cut = multi_line || prefix.size() < shown.size();
  return std::string(multi_line ? "a multi-line string '" : "'") + std::string(prefix)
         + (cut ? "\u2026'" : "'");
}

std::string describe_node(const yaml::Node& node, ParseContext::Sensitivity sensitivity)
{
  switch (node.kind()) {
    case yaml::NodeKind::map:
      return "a mapping";
    case yaml::NodeKind::sequence:
      return "a list";
    case yaml::NodeKind::scalar:
      if (sensitivity == ParseContext::Sensitivity::secret) {
        return "a string (not shown because it may be secret)";
      }
      return quoted_excerpt(node.scalar());
    case yaml::NodeKind::null:
    case yaml::NodeKind::undefined:
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
                  + strings::join(names, ", ")
                  + (names.size() == 1 ? " (export it" : " (export them")
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

}  // namespace sconectl::manifest::detail
