#pragma once

#include "sconectl/util/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace sconectl::yaml {

// Emits a document as block-style YAML with keys in document order, every string double-quoted
// (so no value can be read back as another type, start a comment or close a structure), and a
// trailing newline. Deterministic: the same document gives the same bytes.
[[nodiscard]] std::string to_yaml(const nlohmann::ordered_json& document);

namespace detail {
// to_yaml through yaml-cpp's emitter. to_yaml writes the documents sconectl makes (ASCII
// strings, plain keys, no floating-point numbers) itself, byte for byte as this would, because
// yaml-cpp tests every character of every key against regular expressions; it uses this for
// anything else. Tests compare the two.
[[nodiscard]] std::string to_yaml_through_yaml_cpp(const nlohmann::ordered_json& document);
}  // namespace detail

// Parses a YAML mapping from an untrusted source. Quoted scalars stay strings; plain ones become
// booleans, null or non-negative integers where they look like one. Refuses duplicate keys, deep
// nesting, self-referencing aliases and alias bombs; errors name line and column.
[[nodiscard]] Result<nlohmann::ordered_json> parse_yaml(std::string_view text);

namespace detail {
// parse_yaml through yaml-cpp alone, after a libyaml syntax check: what parse_yaml does for any
// document outside the common kind it reads itself (yaml::read_common_yaml). Tests compare the
// two.
[[nodiscard]] Result<nlohmann::ordered_json> parse_yaml_through_yaml_cpp(std::string_view text);
}  // namespace detail

}  // namespace sconectl::yaml
