#pragma once

// Private to the manifest module: YAML text to nodes for the manifest readers.

#include "parse_context.hpp"
#include "sconectl/yaml/node.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sconectl::manifest::detail {

// Parses one YAML document after a strict syntax check. Reports syntax errors, an empty file and
// several documents in one file.
[[nodiscard]] std::optional<yaml::Node> load_yaml_document(std::string_view text,
                                                           ParseContext& context);

// Parses YAML held in a string field (helm_extra_values: |). Problems are reported at `at`, the
// position of the string in the file, under `path`.
[[nodiscard]] std::optional<yaml::Node> load_embedded_yaml(const std::string& text,
                                                           SourcePosition at,
                                                           const std::string& path,
                                                           ParseContext& context);

// Converts an arbitrary YAML subtree (helm_extra_values) to JSON with yaml::to_json_tree (its
// typing and limits), expanding variables in scalars, and reports its problems through `context`.
// `at`, when given, is where all problems are reported: for YAML parsed from a string, the nodes'
// own positions are inside that string, not in the file.
[[nodiscard]] std::optional<nlohmann::json> to_json(const yaml::Node& node,
                                                    const std::string& path,
                                                    ParseContext& context,
                                                    std::optional<SourcePosition> at = {});

}  // namespace sconectl::manifest::detail
