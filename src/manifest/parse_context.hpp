#pragma once

// Private to the manifest module: reading the fields of YAML nodes (yaml::Node), with diagnostics.

#include "sconectl/manifest/load.hpp"
#include "sconectl/manifest/position.hpp"
#include "sconectl/yaml/node.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest::detail {

[[nodiscard]] SourcePosition position_of(const yaml::Node& node);
[[nodiscard]] std::string join_path(const std::string& parent, std::string_view key);
[[nodiscard]] std::string index_path(const std::string& parent, std::size_t index);

// Collects the diagnostics of one file and performs `$NAME` expansion on its scalars.
class ParseContext {
 public:
  enum class Expand { variables, nothing };
  // Explicit secret values are expanded too, but no diagnostic may quote or hint at their text.
  enum class Sensitivity { plain, secret };

  ParseContext(std::string file, const LoadOptions& options, Expand expand);

  void error(SourcePosition at, std::string path, std::string message);
  void warning(SourcePosition at, std::string path, std::string message);

  // Expands `$NAME` in a scalar read at `at`/`path`, remembering uses and undefined names.
  [[nodiscard]] std::string expand(const std::string& raw,
                                   SourcePosition at,
                                   const std::string& path,
                                   Sensitivity sensitivity = Sensitivity::plain);

  // True when the field at `path` used an undefined variable or a malformed reference, or held a
  // NUL; later checks stay quiet about it because one error already explains the problem.
  [[nodiscard]] bool has_variable_problem(const std::string& path) const;

  // Emits the single "undefined environment variables" error, then hands everything over.
  void finish(LoadReport& report);

  // Secrets whose name was read but whose kind was invalid: references to them are not reported
  // again as "undefined".
  void note_secret_without_kind(std::string name)
  {
    m_secrets_without_kind.insert(std::move(name));
  }
  [[nodiscard]] const std::set<std::string>& secrets_without_kind() const
  {
    return m_secrets_without_kind;
  }

  [[nodiscard]] const std::string& file() const { return m_file; }
  [[nodiscard]] const LoadOptions& options() const { return m_options; }

 private:
  void add_error(SourcePosition at, std::string path, std::string message);

  std::string m_file;
  const LoadOptions& m_options;
  Expand m_expand;
  std::vector<Diagnostic> m_diagnostics;
  std::vector<VariableOccurrence> m_variables;
  std::vector<std::string> m_undefined;  // in order of first use
  std::optional<std::pair<SourcePosition, std::string>> m_first_undefined_at;
  std::set<std::string> m_paths_with_variable_problems;
  std::set<std::string> m_secrets_without_kind;
};

// `present`: the key must be there, but its value may be empty; null reads as "" (a variable's
// value, a file's content).
enum class Need { optional, required, present };

// Reads the fields of one YAML mapping with typed accessors. Every accessor reports problems
// (missing, wrong type, empty) itself and returns std::nullopt / an empty list after an error.
// `report_unknown_fields()` warns about every key that no accessor asked for.
// How a scalar field is read. Most fields hold one token (a name, a hex or base58 key, a number,
// a path, an image reference), where the line break that ends a block scalar (`name: |`) is not
// part of the value and is dropped. Free text (environment values, file content, build `run`
// lines) keeps it, as YAML defines.
enum class ScalarKind { token, text };

class MapReader {
 public:
  MapReader(const yaml::Node& node, std::string path, ParseContext& context);

  [[nodiscard]] bool has(const std::string& key) const;
  [[nodiscard]] std::optional<std::string> string(const std::string& key,
                                                  Need need = Need::optional);
  // A free-text string field: a block scalar's line breaks are kept.
  [[nodiscard]] std::optional<std::string> text(const std::string& key, Need need = Need::optional);
  // Whether the mapping has `key`, with or without a value.
  [[nodiscard]] bool has_key(const std::string& key) const;
  // A string holding secret material (explicit secret values): diagnostics never show its text.
  [[nodiscard]] std::optional<std::string> secret_string(const std::string& key);
  [[nodiscard]] std::optional<std::uint64_t> unsigned_integer(const std::string& key,
                                                              std::uint64_t min,
                                                              std::uint64_t max,
                                                              Need need = Need::optional);
  [[nodiscard]] std::optional<bool> boolean(const std::string& key, Need need = Need::optional);
  [[nodiscard]] std::vector<std::string> string_list(const std::string& key,
                                                     Need need = Need::optional,
                                                     ScalarKind kind = ScalarKind::token);
  // The value node of a mapping field, checked to be a mapping.
  [[nodiscard]] std::optional<MapReader> map(const std::string& key, Need need = Need::optional);
  // The item nodes of a list field, checked to be a list, with their paths.
  [[nodiscard]] std::vector<std::pair<yaml::Node, std::string>> list(const std::string& key,
                                                                     Need need = Need::optional);
  // The raw value node (for fields that accept several shapes), marked as known.
  [[nodiscard]] std::optional<yaml::Node> raw(const std::string& key);

  void report_unknown_fields();

  [[nodiscard]] const std::string& path() const { return m_path; }
  [[nodiscard]] std::string path_of(const std::string& key) const { return join_path(m_path, key); }
  [[nodiscard]] SourcePosition position() const { return m_position; }
  [[nodiscard]] SourcePosition position_of_field(const std::string& key) const;
  [[nodiscard]] FieldPositions positions() const;
  [[nodiscard]] ParseContext& context() const { return *m_context; }

 private:
  struct Entry {
    yaml::Node key;
    yaml::Node value;
  };
  [[nodiscard]] const Entry* find(const std::string& key, Need need);
  [[nodiscard]] std::optional<std::string> scalar_text(
      const std::string& key,
      const Entry& entry,
      std::string_view expected,
      ParseContext::Sensitivity sensitivity = ParseContext::Sensitivity::plain,
      ScalarKind kind = ScalarKind::token);
  [[nodiscard]] std::optional<std::string> string_field(const std::string& key,
                                                        Need need,
                                                        ScalarKind kind);

  std::string m_path;
  SourcePosition m_position;
  ParseContext* m_context;
  std::vector<std::pair<std::string, Entry>> m_entries;  // first occurrence of each key, in order
  std::set<std::string> m_asked;
};

// Checks that `node` is a mapping and wraps it; reports an error and returns nullopt otherwise.
// A `secret` node that is not a mapping is not quoted in the error.
[[nodiscard]] std::optional<MapReader> as_map(
    const yaml::Node& node,
    const std::string& path,
    ParseContext& context,
    ParseContext::Sensitivity sensitivity = ParseContext::Sensitivity::plain);

// Reads a scalar list item as an (expanded) string; reports non-scalars.
[[nodiscard]] std::optional<std::string> as_string(const yaml::Node& node,
                                                   const std::string& path,
                                                   ParseContext& context,
                                                   ScalarKind kind = ScalarKind::token);

// The scalar's text as a field of `kind` reads it: for a token, without the line breaks that end
// a block scalar.
[[nodiscard]] std::string scalar_of(const yaml::Node& node, ScalarKind kind);

// "a list", "a mapping", "nothing" or the quoted scalar — for "expected X, got Y" messages. The
// scalar is shortened as by `quoted_excerpt`; a `secret` scalar is not shown at all.
[[nodiscard]] std::string describe_node(
    const yaml::Node& node,
    ParseContext::Sensitivity sensitivity = ParseContext::Sensitivity::plain);

// `text` in single quotes for a message: at most 40 bytes, or the first line of a multi-line
// string, with an ellipsis when cut.
[[nodiscard]] std::string quoted_excerpt(std::string_view text);

}  // namespace sconectl::manifest::detail
