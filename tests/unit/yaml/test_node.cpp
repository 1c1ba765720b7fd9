#include "sconectl/yaml/node.hpp"
#include "sconectl/yaml/tree.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace sconectl::yaml {
namespace {

Node loaded(const std::string& text)
{
  auto node = load(text);
  EXPECT_TRUE(node.has_value()) << (node ? "" : node.error().message);
  return node ? *node : Node();
}

TEST(YamlNode, KindsAndScalarsAreThoseOfTheDocument)
{
  const auto root = loaded("name: web\nempty:\nlist: [a, b]\nmap: {k: v}\nquoted: \"1\"\n");
  ASSERT_TRUE(root.is_map());
  EXPECT_EQ(root.size(), 5U);
  EXPECT_EQ(root.find("name").scalar(), "web");
  EXPECT_TRUE(root.find("empty").is_null());
  EXPECT_TRUE(root.find("list").is_sequence());
  EXPECT_TRUE(root.find("map").is_map());
  EXPECT_EQ(root.find("quoted").scalar(), "1");
  EXPECT_EQ(root.find("map").find("k").scalar(), "v");
}

TEST(YamlNode, AbsentKeysAndIndexesAreUndefinedAndSafeToAsk)
{
  const auto root = loaded("list: [a]\n");
  const auto missing = root.find("nothing");
  EXPECT_FALSE(missing);
  EXPECT_EQ(missing.kind(), NodeKind::undefined);
  EXPECT_EQ(missing.scalar(), "");
  EXPECT_EQ(missing.size(), 0U);
  EXPECT_EQ(missing.position().line, 0);
  EXPECT_FALSE(missing.find("deeper"));
  EXPECT_FALSE(root.find("list").item(1));
  EXPECT_FALSE(root.item(0));  // a mapping has no items
  EXPECT_FALSE(Node());
}

TEST(YamlNode, PositionsAreOneBasedLineAndColumn)
{
  const auto root = loaded("a: 1\nlist:\n  - first\n  - key: value\n");
  EXPECT_EQ(root.find("a").position().line, 1);
  EXPECT_EQ(root.find("a").position().column, 4);
  const auto second = root.find("list").item(1);
  EXPECT_EQ(second.position().line, 4);
  EXPECT_EQ(second.position().column, 5);
  EXPECT_EQ(second.find("key").position().column, 10);
}

TEST(YamlNode, EntriesKeepDocumentOrderDuplicatesAndKeysOfAnyKind)
{
  // The manifest reader reports duplicates and non-scalar keys itself: the tree must keep them.
  const auto root = loaded("b: 1\na: 2\nb: 3\n? [x]\n: 4\n");
  const auto entries = root.entries();
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[0].first.scalar(), "b");
  EXPECT_EQ(entries[1].first.scalar(), "a");
  EXPECT_EQ(entries[2].first.scalar(), "b");
  EXPECT_EQ(entries[2].second.scalar(), "3");
  EXPECT_TRUE(entries[3].first.is_sequence());
  EXPECT_EQ(entries[2].first.position().line, 3);
  EXPECT_EQ(root.find("b").scalar(), "1");  // the first one
}

TEST(YamlNode, ItemsOfASequence)
{
  const auto items = loaded("- a\n- [b]\n-\n").items();
  ASSERT_EQ(items.size(), 3U);
  EXPECT_EQ(items[0].scalar(), "a");
  EXPECT_TRUE(items[1].is_sequence());
  EXPECT_TRUE(items[2].is_null());
}

TEST(YamlNode, AHandleKeepsItsDocumentAlive)
{
  Node inner;
  {
    const auto root = loaded("outer:\n  inner: kept\n");
    inner = root.find("outer").find("inner");
  }
  EXPECT_EQ(inner.scalar(), "kept");
}

TEST(YamlLoad, AllDocumentsOfAText)
{
  const auto none = load_all("# only a comment\n");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  const auto two = load_all("a: 1\n---\nb: 2\n");
  ASSERT_TRUE(two.has_value());
  ASSERT_EQ(two->size(), 2U);
  EXPECT_EQ((*two)[1].find("b").scalar(), "2");
  EXPECT_EQ((*two)[1].position().line, 3);
}

TEST(YamlLoad, AProblemHasItsPositionAndMessage)
{
  const auto broken = load("a: [1, 2\n");
  ASSERT_FALSE(broken.has_value());
  EXPECT_GT(broken.error().at.line, 0);
  EXPECT_FALSE(broken.error().message.empty());
  EXPECT_FALSE(broken.error().too_deep);
}

TEST(YamlLoad, NestingBeyondTheParsersDepthIsToldApart)
{
  const auto deep = load(std::string(20000, '[') + std::string(20000, ']'));
  ASSERT_FALSE(deep.has_value());
  EXPECT_TRUE(deep.error().too_deep);
}

TEST(YamlTree, ProblemsPointAtTheNodeThroughTheOwnType)
{
  const auto root = loaded("a: 1\nb:\n  a: 2\n  a: 3\n");
  const auto converted = to_json_tree(root);
  ASSERT_FALSE(converted.has_value());
  EXPECT_EQ(converted.error().path, "b");
  EXPECT_EQ(converted.error().message, "duplicate key 'a'");
  EXPECT_EQ(converted.error().node.position().line, 4);
}

TEST(YamlTree, ScalarTextSeesTheScalarNode)
{
  const auto root = loaded("a: x\nb: [y]\n");
  std::string seen;
  const auto converted = to_json_tree(root, "", [&](const Node& scalar, const std::string& path) {
    seen += path + "@" + std::to_string(scalar.position().line) + " ";
    return scalar.scalar() + "!";
  });
  ASSERT_TRUE(converted.has_value());
  EXPECT_EQ(seen, "a@1 b[0]@2 ");
  EXPECT_EQ((*converted)["b"][0], "y!");
}

}  // namespace
}  // namespace sconectl::yaml
