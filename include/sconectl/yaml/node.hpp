#pragma once

// A YAML document as a tree of nodes, with the line and column of each: what the manifest reader
// and the session-file positions walk. The parser behind it (yaml-cpp) stays inside this module;
// its types appear in no public header, so no other module depends on them.

#include <tl/expected.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::yaml {

// 1-based; 0 when not known.
struct TextPosition {
  int line = 0;
  int column = 0;
};

enum class NodeKind {
  undefined,  // no node: a key that is not there, an index past the end
  null,       // `key:`, `~`, `null`
  scalar,
  sequence,
  map,
};

// A handle to one node of a parsed document. Copies are cheap and refer to the same node; the
// document lives as long as any handle to it. A default-constructed Node is undefined.
class Node {
 public:
  struct Impl;

  Node();
  explicit Node(std::shared_ptr<const Impl> impl);

  [[nodiscard]] NodeKind kind() const;
  [[nodiscard]] bool is_defined() const { return kind() != NodeKind::undefined; }
  [[nodiscard]] bool is_null() const { return kind() == NodeKind::null; }
  [[nodiscard]] bool is_scalar() const { return kind() == NodeKind::scalar; }
  [[nodiscard]] bool is_sequence() const { return kind() == NodeKind::sequence; }
  [[nodiscard]] bool is_map() const { return kind() == NodeKind::map; }
  explicit operator bool() const { return is_defined(); }

  // A scalar's text as written, after YAML's escapes and folding ("" for other kinds).
  [[nodiscard]] const std::string& scalar() const;
  // Where the node starts in the text that was parsed.
  [[nodiscard]] TextPosition position() const;

  // The items of a sequence, or the entries of a mapping (0 for other kinds).
  [[nodiscard]] std::size_t size() const;
  // The item at `index` of a sequence; undefined when there is none.
  [[nodiscard]] Node item(std::size_t index) const;
  [[nodiscard]] std::vector<Node> items() const;
  // The entries of a mapping, keys of any kind, in document order, duplicates kept.
  [[nodiscard]] std::vector<std::pair<Node, Node>> entries() const;
  // The value of the first entry whose key is the scalar `key`; undefined when there is none.
  [[nodiscard]] Node find(std::string_view key) const;

  [[nodiscard]] const Impl* impl() const { return m_impl.get(); }

 private:
  std::shared_ptr<const Impl> m_impl;
};

// Why a text could not be parsed. `too_deep`: nested beyond what the parser can follow (its own
// message says only "bad file").
struct LoadProblem {
  TextPosition at;
  std::string message;
  bool too_deep = false;
};

// Every document of `text` (none for an empty text or one of comments only; one null document for
// `---` alone). Call check_syntax (tree.hpp) first: the parser behind this accepts some broken
// documents that it refuses.
[[nodiscard]] tl::expected<std::vector<Node>, LoadProblem> load_all(std::string_view text);

// The one document of `text` (a null node when it is empty).
[[nodiscard]] tl::expected<Node, LoadProblem> load(std::string_view text);

}  // namespace sconectl::yaml
