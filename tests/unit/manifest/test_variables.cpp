#include "manifest_text.hpp"
#include "sconectl/manifest/variables.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

using sconectl::testing::variables;

Expansion expand(std::string_view text)
{
  return expand_variables(
      text,
      variables({{"REPO", "registry.example.com/team"}, {"EMPTY", ""}, {"SPACED", "a b: #c"}}));
}

TEST(ExpandVariablesTest, ReplacesBothSpellings)
{
  EXPECT_EQ(expand("$REPO/app:1").text, "registry.example.com/team/app:1");
  EXPECT_EQ(expand("${REPO}_x").text, "registry.example.com/team_x");
  EXPECT_EQ(expand("$SPACED").text, "a b: #c");
}

TEST(ExpandVariablesTest, KeepsSecretReferencesExactly)
{
  EXPECT_EQ(expand("$$SCONE::password$$").text, "$$SCONE::password$$");
  EXPECT_EQ(expand("pre $$SCONE::cert:crt$$ $REPO").text,
            "pre $$SCONE::cert:crt$$ registry.example.com/team");
}

TEST(ExpandVariablesTest, DoubleDollarIsALiteralDollar)
{
  EXPECT_EQ(expand("price: $$REPO").text, "price: $REPO");
}

TEST(ExpandVariablesTest, LeavesDollarsThatStartNoName)
{
  EXPECT_EQ(expand("!#what!$#").text, "!#what!$#");
  EXPECT_EQ(expand("costs 5$ and $").text, "costs 5$ and $");
  EXPECT_EQ(expand("$1").text, "$1");
}

TEST(ExpandVariablesTest, AppliesDefaults)
{
  EXPECT_EQ(expand("${MISSING:-fallback}").text, "fallback");
  EXPECT_EQ(expand("${MISSING-fallback}").text, "fallback");
  EXPECT_EQ(expand("${EMPTY:-fallback}").text, "fallback");
  EXPECT_EQ(expand("${EMPTY-fallback}").text, "");
  EXPECT_EQ(expand("${REPO:-fallback}").text, "registry.example.com/team");
  EXPECT_EQ(expand("${MISSING:-}").text, "");
}

TEST(ExpandVariablesTest, ListsEveryUndefinedName)
{
  const auto result = expand("$A/${B}:$A-${C:-ok}");
  EXPECT_EQ(result.undefined, (std::vector<std::string>{"A", "B", "A"}));
  EXPECT_TRUE(result.problems.empty());
}

TEST(ExpandVariablesTest, ReportsMalformedReferences)
{
  EXPECT_EQ(
      expand("${REPO").problems,
      std::vector<std::string>{"malformed variable reference '${REPO' (expected ${NAME}, "
                               "${NAME:-default} or ${NAME-default}; write $$ for a literal $)"});
  EXPECT_EQ(expand("${}").problems.size(), 1U);
  EXPECT_EQ(expand("${REPO:=x}").problems.size(), 1U);
  const auto nested = expand("${A:-${B}}/rest");
  EXPECT_EQ(nested.problems.size(), 1U);
  EXPECT_EQ(nested.text, "/rest");
  EXPECT_EQ(expand("${A:-${B").problems.size(), 1U);
}

TEST(FindVariablesTest, ReturnsUsesWithDefaults)
{
  const auto uses = find_variables("$A ${B:-x} ${C-} $$D $$SCONE::E$$");
  ASSERT_EQ(uses.size(), 3U);
  EXPECT_EQ(uses[0].name, "A");
  EXPECT_FALSE(uses[0].default_value);
  EXPECT_EQ(uses[1].default_value, "x");
  EXPECT_TRUE(uses[1].default_when_empty);
  EXPECT_EQ(uses[2].default_value, "");
  EXPECT_FALSE(uses[2].default_when_empty);
}

TEST(FindMeshReferencesTest, FindsNamesInBraces)
{
  EXPECT_EQ(find_mesh_references("nameserver {{ DNS_IP }}\nsearch {{NS}}.svc {{unclosed"),
            (std::vector<std::string>{"DNS_IP", "NS"}));
}

TEST(SubstituteMeshReferencesTest, ReplacesNamesAndKeepsOtherBraces)
{
  const auto lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "A") {
      return "1";
    }
    return std::nullopt;
  };
  auto result =
      substitute_mesh_references("x={{A}} y={{ A }} z={{B}} w={{ not a name }} {{", lookup);
  EXPECT_EQ(result.text, "x=1 y=1 z={{B}} w={{ not a name }} {{");
  EXPECT_EQ(result.undefined, std::vector<std::string>{"B"});
}

TEST(FindMeshReferencesTest, ListsOnlyNamesTheSubstitutionWouldReplace)
{
  EXPECT_EQ(find_mesh_references("{{A}} {{ b.c-d_e }} {{ not a name }} {{}} {{ B"),
            (std::vector<std::string>{"A", "b.c-d_e"}));
}

}  // namespace
}  // namespace sconectl::manifest
