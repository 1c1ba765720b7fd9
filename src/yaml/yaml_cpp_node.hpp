#pragma once

// Private to the yaml module: the yaml-cpp node behind a yaml::Node.

#include "sconectl/yaml/node.hpp"

#include <yaml-cpp/yaml.h>

namespace sconectl::yaml {

struct Node::Impl {
  YAML::Node node;
};

[[nodiscard]] Node wrap(const YAML::Node& node);
// The yaml-cpp node of `node`; an undefined one for an undefined Node.
[[nodiscard]] const YAML::Node& unwrap(const Node& node);
// yaml-cpp's 0-based mark, 1-based; {} when the node has none.
[[nodiscard]] TextPosition position_of(const YAML::Node& node);

}  // namespace sconectl::yaml
