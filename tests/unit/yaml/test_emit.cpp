#include "sconectl/yaml/convert.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace sconectl::yaml {
namespace {

using Json = nlohmann::ordered_json;

// Random documents of the shapes sconectl writes and of shapes it does not (keys that need
// quoting, UTF-8, control characters, floating-point numbers, deep and empty nesting).
class RandomDocument {
 public:
  // `plain`: only what to_yaml writes itself (plain keys, ASCII strings, no floating point).
  RandomDocument(unsigned seed, bool plain) : m_random(seed), m_plain(plain) {}

  Json value(int depth)
  {
    switch (pick(depth > 0 ? 10 : 6)) {
      case 0:
        return text();
      case 1:
        return pick(2) == 0;
      case 2:
        return pick(3) == 0 ? Json(-static_cast<std::int64_t>(pick(1000000)))
                            : Json(static_cast<std::uint64_t>(pick(1000000)) * 18446744073709ULL);
      case 3:
        return nullptr;
      case 4:
        return pick(20) == 0 && !m_plain ? Json(0.1 * static_cast<double>(pick(100)))
                                         : Json(text());
      case 5:
        return pick(2) == 0 ? Json::object() : Json::array();
      case 6:
      case 7:
        return map(depth - 1);
      default:
        return sequence(depth - 1);
    }
  }

  Json map(int depth)
  {
    Json result = Json::object();
    for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) {
      result[key()] = value(depth);
    }
    return result;
  }

 private:
  std::size_t pick(std::size_t n)
  {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(m_random);
  }

  Json sequence(int depth)
  {
    Json result = Json::array();
    for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) {
      result.push_back(value(depth));
    }
    return result;
  }

  std::string key()
  {
    static const char* const k_keys[] = {"name",
                                         "API_USER",
                                         "injection_files",
                                         "/etc/app/config.yaml",
                                         "svc-0001",
                                         "a.b",
                                         "true",
                                         "null",
                                         "Null",
                                         "NULL",
                                         "~",
                                         "",
                                         "a b",
                                         "-x",
                                         "-",
                                         "x:",
                                         ":x",
                                         "#c",
                                         "a #c",
                                         "ä",
                                         "tab\there",
                                         "quote\"",
                                         "1",
                                         "0x10",
                                         "yes",
                                         "on",
                                         "k ",
                                         " k",
                                         "[a]",
                                         "{b}",
                                         "*alias",
                                         "&anchor",
                                         "!tag",
                                         "%d",
                                         "@at",
                                         "`bt",
                                         "a,b",
                                         "?q",
                                         "line\nbreak",
                                         "nUlL"};
    constexpr std::size_t k_plain_keys = 6;  // the first ones
    if (m_plain) {
      return pick(50) == 0 ? std::string(1024, 'k') : k_keys[pick(k_plain_keys)];
    }
    if (pick(50) == 0) {
      return std::string(1000 + pick(50), 'k');  // around yaml-cpp's long-key threshold
    }
    return k_keys[pick(std::size(k_keys))];
  }

  std::string text()
  {
    std::string result;
    const auto size = pick(12);
    const int kind = static_cast<int>(pick(4));
    for (std::size_t i = 0; i < size; ++i) {
      if (kind == 0) {
        result += static_cast<char>(pick(128));  // every ASCII character, controls included
      } else if (kind == 1 && !m_plain && pick(4) == 0) {
        result += pick(2) == 0 ? "\xc3\xa4" : (pick(2) == 0 ? "\xc2\xa0" : "\xff");
      } else {
        result += static_cast<char>('a' + pick(26));
      }
    }
    return result;
  }

  std::mt19937 m_random;
  bool m_plain;
};

TEST(ToYaml, WritesEveryDocumentAsYamlCppDoes)
{
  for (unsigned seed = 0; seed < 3000; ++seed) {
    RandomDocument random(seed, seed % 2 == 0);
    const Json document = seed % 10 == 0 ? random.value(4) : random.map(4);
    ASSERT_EQ(to_yaml(document), detail::to_yaml_through_yaml_cpp(document))
        << "seed " << seed << ": " << document.dump();
  }
}

TEST(ToYaml, WritesTheGeneratedPoliciesAsYamlCppDoes)
{
  const auto root = std::filesystem::path(SCONECTL_SOURCE_DIR) / "tests" / "golden" / "mesh";
  std::size_t compared = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const auto& path = entry.path();
    if (path.extension() != ".yaml"
        || std::find(path.begin(), path.end(), "policies") == path.end()) {
      continue;
    }
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const auto document = parse_yaml(text.str());
    ASSERT_TRUE(document) << entry.path();
    EXPECT_EQ(to_yaml(*document), detail::to_yaml_through_yaml_cpp(*document)) << entry.path();
    EXPECT_EQ(to_yaml(*document), text.str()) << entry.path();
    ++compared;
  }
  EXPECT_GE(compared, 3U);
}

TEST(ToYaml, LayoutOfNestedMapsAndSequences)
{
  const Json document = Json::parse(
      R"({"a": ["x", {"k": "v", "k2": [1, 2]}, ["s1", {}], null], "m": {"n": {"o": true}, "e": []}})");
  EXPECT_EQ(to_yaml(document),
            "a:\n"
            "  - \"x\"\n"
            "  - k: \"v\"\n"
            "    k2:\n"
            "      - 1\n"
            "      - 2\n"
            "  -\n"
            "    - \"s1\"\n"
            "    - {}\n"
            "  - ~\n"
            "m:\n"
            "  n:\n"
            "    o: true\n"
            "  e: []\n");
}

}  // namespace
}  // namespace sconectl::yaml
