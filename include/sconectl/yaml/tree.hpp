#pragma once

#include "sconectl/yaml/node.hpp"

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

// The one way YAML becomes JSON, with one set of limits, for every YAML input: manifests and
// their helm_extra_values, and CAS sessions (yaml::parse_yaml). yaml-cpp builds the nodes; a
// strict libyaml pass checks the text first, because yaml-cpp 0.7 accepts some broken documents
// (an unclosed quote silently runs to the end of the file) and reports others vaguely ("bad
// file" for deep nesting), while libyaml names the problem and needs no recursion.
namespace sconectl::yaml {

// Nesting deeper than this is refused: no manifest or session needs it, and yaml-cpp recurses per
// level.
inline constexpr int k_max_depth = 200;
// Aliases can make a small document expand enormously ("billion laughs"); a document that needs
// more values than this is refused rather than expanded.
inline constexpr std::size_t k_max_values = 100000;
// The values count does not bound the bytes: one alias of a 100 KB string is one value. A document
// may expand to at most k_expanded_bytes_factor times its own size in bytes, and never less than
// k_min_expanded_bytes, counting every scalar's bytes (keys included) and one byte for every
// node, each time an alias repeats it. Without aliases a document stays far below.
inline constexpr std::size_t k_expanded_bytes_factor = 16;
inline constexpr std::size_t k_min_expanded_bytes = std::size_t{1} << 20;

[[nodiscard]] constexpr std::size_t max_expanded_bytes(std::size_t input_bytes)
{
  return input_bytes > k_min_expanded_bytes / k_expanded_bytes_factor
             ? input_bytes * k_expanded_bytes_factor
             : k_min_expanded_bytes;
}

struct SyntaxProblem {
  TextPosition at;
  std::string message;  // "invalid YAML: ...", with a hint for the common mistakes
};

// Checks `text` with libyaml's event parser, nesting included, and that it holds at most one
// document (a second one, after `---`, is refused at its line). std::nullopt when it is
// well-formed.
[[nodiscard]] std::optional<SyntaxProblem> check_syntax(std::string_view text);

// Why a subtree could not be converted, and where: `node` is the node to point at (its position()),
// `path` the field path to it ("a.b[2]").
struct TreeProblem {
  Node node;
  std::string path;
  std::string message;
};

// The text of a scalar before it is typed; the manifest reader expands ${VARIABLES} here.
using ScalarText = std::function<std::string(const Node& scalar, const std::string& path)>;

// The value of a plain scalar without a tag: true/false, null/~, integers and decimals are typed
// as a YAML 1.2 core-schema reader types them, everything else is a string.
[[nodiscard]] nlohmann::ordered_json typed_plain_scalar(std::string text);

// The common documents, read with libyaml's event parser straight into JSON, as parse_yaml would
// read them through yaml-cpp: a mapping of mappings, sequences and single-line scalars, without
// tags, anchors or aliases, with no duplicate or non-string key, in one document within the
// limits. std::nullopt for anything else, which parse_yaml then reads through yaml-cpp, the one
// reader of the rest of YAML and the one that words the errors. yaml-cpp's scanner costs several
// times libyaml's, and the local CAS parses every session it receives.
[[nodiscard]] std::optional<nlohmann::ordered_json> read_common_yaml(std::string_view text);

// Whether the document `root`, read from `input_bytes` bytes of text, expands to more than
// max_expanded_bytes(input_bytes) (see there). The walk stops as soon as it is over, so it costs
// at most that many steps and no memory. Nodes nested deeper than k_max_depth are not walked
// further: the readers refuse them.
[[nodiscard]] std::optional<TreeProblem> check_expanded_size(const Node& root,
                                                             std::size_t input_bytes);

// Converts a subtree rooted at field path `path`. Quoted scalars stay strings; plain
// true/false, null/~, integers and decimals are typed as a YAML 1.2 core-schema reader types
// them, everything else is a string. Keys keep their document order. Refuses keys that are not
// scalars, duplicate keys, more than k_max_values values (aliases expanded) and more than
// k_max_depth levels, naming the anchor when an alias is used inside its own value.
[[nodiscard]] tl::expected<nlohmann::ordered_json, TreeProblem> to_json_tree(
    const Node& node, const std::string& path = "", const ScalarText& scalar_text = {});

}  // namespace sconectl::yaml
