#include "yaml_cpp_node.hpp"

#include <yaml-cpp/depthguard.h>

#include <exception>

namespace sconectl::yaml {

Node wrap(const YAML::Node& node)
{
  return Node(std::make_shared<const Node::Impl>(Node::Impl{node}));
}

const YAML::Node& unwrap(const Node& node)
{
  static const YAML::Node undefined(YAML::NodeType::Undefined);
  return node.impl() != nullptr ? node.impl()->node : undefined;
}

TextPosition position_of(const YAML::Node& node)
{
  if (!node.IsDefined()) {
    return {};
  }
  const auto mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {.line = mark.line + 1, .column = mark.column + 1};
}

Node::Node() = default;

Node::Node(std::shared_ptr<const Impl> impl) : m_impl(std::move(impl)) {}

NodeKind Node::kind() const
{
  const auto& node = unwrap(*this);
  if (!node.IsDefined()) {  // also yaml-cpp's "zombie" nodes, whose Type() would throw
    return NodeKind::undefined;
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return NodeKind::null;
    case YAML::NodeType::Scalar:
      return NodeKind::scalar;
    case YAML::NodeType::Sequence:
      return NodeKind::sequence;
    case YAML::NodeType::Map:
      return NodeKind::map;
    case YAML::NodeType::Undefined:
      break;
  }
  return NodeKind::undefined;
}

const std::string& Node::scalar() const
{
  static const std::string none;
  return is_scalar() ? unwrap(*this).Scalar() : none;
}

TextPosition Node::position() const
{
  return position_of(unwrap(*this));
}

std::size_t Node::size() const
{
  return is_sequence() || is_map() ? unwrap(*this).size() : 0;
}

Node Node::item(std::size_t index) const
{
  if (!is_sequence() || index >= size()) {
    return {};
  }
  const YAML::Node& node = unwrap(*this);
  return wrap(node[index]);
}

std::vector<Node> Node::items() const
{
  std::vector<Node> items;
  if (is_sequence()) {
    items.reserve(size());
    for (const auto& item : unwrap(*this)) {
      items.push_back(wrap(item));
    }
  }
  return items;
}

std::vector<std::pair<Node, Node>> Node::entries() const
{
  std::vector<std::pair<Node, Node>> entries;
  if (is_map()) {
    entries.reserve(size());
    for (const auto& entry : unwrap(*this)) {
      entries.emplace_back(wrap(entry.first), wrap(entry.second));
    }
  }
  return entries;
}

Node Node::find(std::string_view key) const
{
  if (is_map()) {
    for (const auto& entry : unwrap(*this)) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) {
        return wrap(entry.second);
      }
    }
  }
  return {};
}

namespace {

template <typename Parse>
auto parsed(Parse parse) -> tl::expected<decltype(parse()), LoadProblem>
{
  try {
    return parse();
  } catch (const YAML::Exception& e) {
    const TextPosition at =
        e.mark.is_null() ? TextPosition{} : TextPosition{e.mark.line + 1, e.mark.column + 1};
    const bool too_deep = dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr;
    return tl::unexpected(LoadProblem{.at = at, .message = e.msg, .too_deep = too_deep});
  } catch (const std::exception& e) {
    return tl::unexpected(LoadProblem{.at = {}, .message = e.what()});
  }
}

}  // namespace

tl::expected<std::vector<Node>, LoadProblem> load_all(std::string_view text)
{
  return parsed([&] {
    std::vector<Node> documents;
    for (const auto& document : YAML::LoadAll(std::string(text))) {
      documents.push_back(wrap(document));
    }
    return documents;
  });
}

tl::expected<Node, LoadProblem> load(std::string_view text)
{
  return parsed([&] { return wrap(YAML::Load(std::string(text))); });
}

}  // namespace sconectl::yaml
