#include "sconectl/yaml/convert.hpp"
#include "sconectl/yaml/tree.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/resource.h>

namespace sconectl::yaml {
namespace {

using Json = nlohmann::ordered_json;

// Random YAML texts: mostly of the common kind that read_common_yaml reads itself, with every
// scalar style, escapes, the spellings of null, booleans and numbers, comments, empty values and
// flow collections; sometimes with what it leaves to yaml-cpp (tags, anchors and aliases, block
// and multi-line scalars, duplicate and null keys, several documents, a list at the top).
class RandomYaml {
 public:
  explicit RandomYaml(unsigned seed) : m_random(seed) {}

  std::string document()
  {
    std::string text;
    if (pick(20) == 0) {
      text += "\xef\xbb\xbf";  // a byte order mark
    }
    if (pick(6) == 0) {
      text += "---\n";
    }
    if (pick(40) == 0) {
      text += "- a\n- b\n";  // a list at the top
    } else {
      block_map(text, 0, 3);
    }
    if (pick(10) == 0) {
      text += pick(2) == 0 ? "...\n" : "---\nother: document\n";
    }
    return text;
  }

 private:
  std::size_t pick(std::size_t n)
  {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(m_random);
  }

  void block_map(std::string& text, std::size_t indent, int depth)
  {
    const std::string pad(indent, ' ');
    std::vector<std::string> keys;
    for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) {
      auto name = key();
      if (pick(30) == 0 && !keys.empty()) {
        name = keys.front();  // a duplicate key
      }
      keys.push_back(name);
      text += pad + name + ":";
      value(text, indent, depth);
      if (pick(8) == 0) {
        text += pad + "# a comment\n";
      }
    }
  }

  void block_sequence(std::string& text, std::size_t indent, int depth)
  {
    const std::string pad(indent, ' ');
    for (std::size_t i = 0, n = 1 + pick(3); i < n; ++i) {
      text += pad + "-";
      if (depth > 0 && pick(3) == 0) {
        text += " " + key() + ":";
        value(text, indent + 2, depth - 1);
        if (pick(2) == 0) {
          text += pad + "  " + key() + "2:";
          value(text, indent + 2, depth - 1);
        }
      } else {
        text += " " + scalar() + "\n";
      }
    }
  }

  // The rest of a line after "key:", and any lines nested under it.
  void value(std::string& text, std::size_t indent, int depth)
  {
    const auto choice = pick(depth > 0 ? 12 : 8);
    if (choice < 5) {
      text += " " + scalar() + (pick(6) == 0 ? "  # note" : "") + "\n";
    } else if (choice == 5) {
      text += "\n";  // an empty value
    } else if (choice == 6) {
      text += " " + flow(depth) + "\n";
    } else if (choice == 7) {
      text += " " + rare_value(indent);
    } else if (choice < 10) {
      text += "\n";
      block_map(text, indent + 2, depth - 1);
    } else {
      text += "\n";
      block_sequence(text, indent + (pick(2) == 0 ? 0 : 2), depth - 1);
    }
  }

  std::string flow(int depth)
  {
    switch (pick(5)) {
      case 0:
        return "{}";
      case 1:
        return "[]";
      case 2:
        return "[" + scalar() + ", " + scalar() + "]";
      case 3:
        return "{" + key() + ": " + scalar() + ", " + key() + "x: " + scalar() + "}";
      default:
        return depth > 0 ? "{" + key() + ": " + flow(depth - 1) + "}" : "[a, {b: c}]";
    }
  }

  // What read_common_yaml leaves to yaml-cpp.
  std::string rare_value(std::size_t indent)
  {
    const std::string pad(indent + 2, ' ');
    switch (pick(7)) {
      case 0:
        return "!!str 123\n";
      case 1:
        return "&anchor " + scalar() + "\n";
      case 2:
        return "|\n" + pad + "line one\n" + pad + "line two\n";
      case 3:
        return ">-\n" + pad + "folded\n" + pad + "text\n";
      case 4:
        return "\"two\n" + pad + "lines\"\n";
      case 5:
        return "plain\n" + pad + "continued\n";
      default:
        return "! tagged\n";
    }
  }

  std::string key()
  {
    static const char* const k_keys[] = {"name",
                                         "API_USER",
                                         "version",
                                         "svc-0001",
                                         "/etc/conf",
                                         "a.b",
                                         "\"quoted key\"",
                                         "'single'",
                                         "true",
                                         "123",
                                         "\"\"",
                                         "k with spaces",
                                         "\"null\"",
                                         "x_y"};
    static const char* const k_rare_keys[] = {"null", "~", "? complex", "[a, b]"};
    if (pick(40) == 0) {
      return k_rare_keys[pick(std::size(k_rare_keys))];
    }
    return k_keys[pick(std::size(k_keys))];
  }

  std::string scalar()
  {
    static const char* const k_plain[] = {"hello",
                                          "hello world",
                                          "true",
                                          "false",
                                          "True",
                                          "TRUE",
                                          "yes",
                                          "no",
                                          "on",
                                          "null",
                                          "Null",
                                          "NULL",
                                          "~",
                                          "nULL",
                                          "0",
                                          "7",
                                          "-12",
                                          "+5",
                                          "007",
                                          "0x1F",
                                          "0o17",
                                          "1.5",
                                          "-0.25",
                                          ".5",
                                          "5.",
                                          "1e5",
                                          "1.0e+3",
                                          "1e999",
                                          ".inf",
                                          "-.inf",
                                          ".nan",
                                          "18446744073709551615",
                                          "123456789012345678901",
                                          "a:b",
                                          "http://x/y",
                                          "a - b",
                                          "a #b",
                                          "-dash",
                                          "x:",
                                          "%p",
                                          "é",
                                          "日本",
                                          "tab\there",
                                          "trailing  ",
                                          "a,b",
                                          "2026-12-03"};
    static const char* const k_double[] = {"\"\"",
                                           "\"plain\"",
                                           "\"a\\nb\"",
                                           "\"t\\tb\"",
                                           "\"q\\\"q\"",
                                           "\"b\\\\s\"",
                                           "\"\\x41\"",
                                           "\"\\u00e4\"",
                                           "\"\\U0001F600\"",
                                           "\"\\/\"",
                                           "\"\\0\"",
                                           "\"\\a\\b\\e\\f\\v\\r\"",
                                           "\"\\N\\_\\L\\P\"",
                                           "\"\\ \"",
                                           "\"true\"",
                                           "\"123\"",
                                           "\"null\"",
                                           "\"~\"",
                                           "\"a # b\"",
                                           "\"é\"",
                                           "\"trailing \""};
    static const char* const k_single[] = {
        "''", "'plain'", "'it''s'", "'a\\nb'", "'123'", "'null'", "'true'", "' spaced '"};
    switch (pick(3)) {
      case 0:
        return k_plain[pick(std::size(k_plain))];
      case 1:
        return k_double[pick(std::size(k_double))];
      default:
        return k_single[pick(std::size(k_single))];
    }
  }

  std::mt19937 m_random;
};

// yaml-cpp may produce bytes that are not UTF-8 (it reads "\\N" as the single byte 0x85).
std::string dump(const Json& value)
{
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string describe(const Result<Json>& result)
{
  return result ? dump(*result) : "error: " + result.error().message;
}

TEST(ParseYaml, ReadsEveryRandomDocumentAsYamlCppDoes)
{
  std::size_t common = 0;
  constexpr unsigned k_documents = 4000;
  for (unsigned seed = 0; seed < k_documents; ++seed) {
    const auto text = RandomYaml(seed).document();
    const auto direct = read_common_yaml(text);
    const auto through_yaml_cpp = detail::parse_yaml_through_yaml_cpp(text);
    if (direct) {
      ++common;
      ASSERT_TRUE(through_yaml_cpp) << "seed " << seed << "\n" << text;
      ASSERT_EQ(dump(*direct), dump(*through_yaml_cpp)) << "seed " << seed << "\n" << text;
    }
    ASSERT_EQ(describe(parse_yaml(text)), describe(through_yaml_cpp)) << "seed " << seed << "\n"
                                                                      << text;
  }
  // Most documents are of the common kind, so the direct reader is what is tested.
  EXPECT_GT(common, k_documents / 3);
  EXPECT_LT(common, k_documents);
}

TEST(ParseYaml, ReadsTheRepositorysYamlAsYamlCppDoes)
{
  const auto root = std::filesystem::path(SCONECTL_SOURCE_DIR) / "tests";
  std::size_t common = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const auto direct = read_common_yaml(text.str());
    if (direct) {
      ++common;
      const auto through_yaml_cpp = detail::parse_yaml_through_yaml_cpp(text.str());
      ASSERT_TRUE(through_yaml_cpp) << entry.path();
      EXPECT_EQ(dump(*direct), dump(*through_yaml_cpp)) << entry.path();
    }
  }
  EXPECT_GE(common, 20U);
}

TEST(ParseYaml, ReadsWhatToYamlWritesDirectly)
{
  const Json session = Json::parse(R"({"name": "ns/svc", "version": "0.3.10",
      "services": [{"name": "svc", "command": "python3 /app/main.py", "pwd": "/",
                    "environment": {"API_USER": "$$SCONE::user$$", "EMPTY": ""},
                    "mrenclaves": ["0a1b"], "fspf_tag": null, "heap": 1048576}],
      "security": {"attestation": {"tolerate": ["debug-mode", "simulation"]}},
      "secrets": [], "access_policy": {"read": ["CREATOR"], "update": {}}})");
  const auto text = to_yaml(session);
  const auto direct = read_common_yaml(text);
  ASSERT_TRUE(direct) << text;
  EXPECT_EQ(*direct, session);
}

TEST(ParseYaml, ASecondDocumentIsRefusedAtItsLine)
{
  for (const auto& [text, line] :
       std::vector<std::pair<std::string, int>>{{"a: 1\n---\nb: 2\n", 2},
                                                {"---\na: 1\n...\n---\nb: 2\n", 4},
                                                {"a: &x [1, 2]\n---\nb: *x\n", 2},
                                                {"a: 1\n---\n", 2}}) {
    const auto parsed = parse_yaml(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().message.rfind(
                  "line " + std::to_string(line) + ", column 1: more than one YAML document", 0),
              0U)
        << parsed.error().message;
  }
}

TEST(ParseYaml, OneDocumentWithItsMarkersIsRead)
{
  for (const char* text :
       {"---\na: 1\n", "a: 1\n...\n", "---\na: 1\n...\n", "--- # c\na: &x 1\nb: *x\n...\n"}) {
    const auto parsed = parse_yaml(text);
    ASSERT_TRUE(parsed) << text << parsed.error().message;
    EXPECT_EQ((*parsed)["a"], 1) << text;
  }
}

long peak_rss_kib()
{
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// 100 KB named once and repeated by 1,999 aliases would be 200 MB.
std::string amplified(std::size_t aliases)
{
  std::string text = "E0: &big \"" + std::string(100 * 1000, 'x') + "\"\n";
  for (std::size_t i = 1; i <= aliases; ++i) {
    text += "E" + std::to_string(i) + ": *big\n";
  }
  return text;
}

TEST(ParseYaml, AliasesCannotExpandADocumentBeyondTheByteLimit)
{
  const auto text = amplified(1999);
  const auto rss_before = peak_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  const auto parsed = parse_yaml(text);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find(
                "expands to more than " + std::to_string(max_expanded_bytes(text.size()))
                + " bytes with its YAML aliases (*name) repeated: the limit on expanded YAML "
                  "bytes is 16 times the document's size, and at least 1048576"),
            std::string::npos)
      << parsed.error().message;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_LT(peak_rss_kib() - rss_before, 64 * 1024) << "KiB more at the peak";
}

TEST(ParseYaml, ByteLimitIsSixteenTimesTheInputWithAFloorOfOneMebibyte)
{
  EXPECT_EQ(max_expanded_bytes(0), 1048576U);
  EXPECT_EQ(max_expanded_bytes(65536), 1048576U);
  EXPECT_EQ(max_expanded_bytes(100000), 1600000U);
  // Twelve repetitions of 100 KB stay below 16 times the document; twenty do not.
  EXPECT_TRUE(parse_yaml(amplified(12)));
  EXPECT_FALSE(parse_yaml(amplified(20)));
}

TEST(ParseYaml, ReasonableAliasesStillParse)
{
  const auto parsed = parse_yaml(R"(defaults: &defaults
  heap: 1G
  env: &env {A: "1", B: "2"}
services:
  - name: a
    settings: *defaults
  - name: b
    settings: *defaults
    env: *env
)");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ((*parsed)["services"][1]["settings"]["heap"], "1G");
  EXPECT_EQ((*parsed)["services"][1]["env"]["B"], "2");
}

}  // namespace
}  // namespace sconectl::yaml
