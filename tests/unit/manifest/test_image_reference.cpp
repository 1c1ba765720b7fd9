#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/names.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace sconectl::manifest {
namespace {

const std::string k_digest = "sha256:" + std::string(64, 'a');

ImageReference parsed(const std::string& text)
{
  auto reference = parse_image_reference(text);
  EXPECT_TRUE(reference) << text;
  return reference.value_or(ImageReference{});
}

TEST(ImageReferenceTest, ARegistryWithAPortAndNoTagKeepsItsPort)
{
  const auto reference = parsed("127.0.0.1:5000/repo");
  EXPECT_EQ(reference.registry, "127.0.0.1:5000");
  EXPECT_EQ(reference.path, "repo");
  EXPECT_EQ(reference.tag, std::nullopt);
  EXPECT_EQ(reference.tag_or_latest(), "latest");
  EXPECT_EQ(reference.repository(), "127.0.0.1:5000/repo");
  EXPECT_EQ(reference.name(), "repo");
}

TEST(ImageReferenceTest, RegistryPortPathAndTag)
{
  const auto reference = parsed("host:5000/team/app:1.2-rc_3");
  EXPECT_EQ(reference.registry, "host:5000");
  EXPECT_EQ(reference.path, "team/app");
  EXPECT_EQ(reference.tag, "1.2-rc_3");
  EXPECT_EQ(reference.repository(), "host:5000/team/app");
  EXPECT_EQ(reference.without_digest(), "host:5000/team/app:1.2-rc_3");
  EXPECT_EQ(reference.name(), "app");
}

TEST(ImageReferenceTest, DigestsWithAndWithoutTag)
{
  const auto pinned = parsed("registry.example.com/app@" + k_digest);
  EXPECT_EQ(pinned.digest, k_digest);
  EXPECT_EQ(pinned.tag, std::nullopt);
  EXPECT_EQ(pinned.without_digest(), "registry.example.com/app");
  const auto both = parsed("registry.example.com/app:2@" + k_digest);
  EXPECT_EQ(both.tag, "2");
  EXPECT_EQ(both.digest, k_digest);
  EXPECT_EQ(both.without_digest(), "registry.example.com/app:2");
  EXPECT_EQ(both.repository(), "registry.example.com/app");
}

TEST(ImageReferenceTest, BracketedIpv6Registries)
{
  const auto reference = parsed("[::1]:5000/team/app:2");
  EXPECT_EQ(reference.registry, "[::1]:5000");
  EXPECT_EQ(reference.path, "team/app");
  EXPECT_EQ(reference.tag, "2");
  EXPECT_EQ(parsed("[fe80::1]/app").registry, "[fe80::1]");
  EXPECT_EQ(check_image_reference("[::1]:5000/team/app:2"), "");
}

TEST(ImageReferenceTest, DefaultRegistryAndLocalhost)
{
  EXPECT_EQ(parsed("team/app").registry, "");
  EXPECT_EQ(parsed("team/app").path, "team/app");
  EXPECT_EQ(parsed("app").path, "app");
  EXPECT_EQ(parsed("app:3").tag, "3");
  EXPECT_EQ(parsed("localhost/app").registry, "localhost");
  EXPECT_EQ(parsed("localhost:5000/a/b/c").path, "a/b/c");
}

TEST(ImageReferenceTest, AnUpperCaseFirstComponentIsARegistry)
{
  // As in Docker: no path may have upper case, so such a component can only be a host.
  const auto reference = parsed("Team/app:1");
  EXPECT_EQ(reference.registry, "Team");
  EXPECT_EQ(reference.path, "app");
}

TEST(ImageReferenceTest, AFirstComponentThatIsNoValidHostStaysInThePath)
{
  const auto reference = parsed("my_team.v2/app");
  EXPECT_EQ(reference.registry, "");
  EXPECT_EQ(reference.path, "my_team.v2/app");
  EXPECT_EQ(reference.name(), "app");
}

TEST(ImageReferenceTest, CheckImageReferenceKeepsItsMessages)
{
  EXPECT_EQ(check_image_reference(""), "an image reference like registry.example.com/team/app:1.0");
  EXPECT_EQ(check_image_reference("Team/App"),
            "an image reference like registry.example.com/team/app:1.0 (lower-case path, "
            "optional :tag and @sha256:digest)");
  EXPECT_EQ(check_image_reference("registry.example.com/team/app:1.0"), "");
}

TEST(ImageReferenceTest, RefusesWhatTheGrammarRefuses)
{
  for (const std::string& text :
       std::vector<std::string>{"",
                                "Team/App",
                                "registry.example.com/App:1",
                                "registry.example.com//app",
                                "registry.example.com/app/",
                                "/app",
                                "app:",
                                "app@sha256:abc",
                                "app@md5:" + std::string(32, 'a'),
                                "app:" + std::string(129, 't'),
                                "app:-leading-dash",
                                "a b",
                                "registry.example.com/" + std::string(600, 'a')}) {
    EXPECT_FALSE(parse_image_reference(text)) << text;
    EXPECT_NE(check_image_reference(text), "") << text;
  }
}

TEST(ImageReferenceTest, ToStringRoundTrips)
{
  for (const std::string& text :
       std::vector<std::string>{"app",
                                "team/app:1",
                                "127.0.0.1:5000/repo",
                                "[::1]:5000/team/app:2",
                                "registry.example.com/a.b/c__d/e--f:v1.0@" + k_digest}) {
    EXPECT_EQ(parsed(text).to_string(), text);
  }
}

// check_image_reference was this regex before it used the parser; the parser must accept exactly
// what it accepted, bracketed IPv6 registries aside.
bool accepted_by_the_former_regex(const std::string& text)
{
  static const std::regex former(
      R"(((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
      R"((?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?)");
  return !text.empty() && text.size() <= 512 && std::regex_match(text, former);
}

TEST(ImageReferenceTest, AcceptsExactlyWhatTheFormerRegexAccepted)
{
  const std::vector<std::string> firsts{"",
                                        "a",
                                        "A",
                                        "Team",
                                        "a-b",
                                        "a_b",
                                        "a__b",
                                        "a.b",
                                        "a_b.c",
                                        "A.b",
                                        "localhost",
                                        "LocalHost",
                                        "localhost:5000",
                                        "a:5000",
                                        "a:x",
                                        "a.b:5000",
                                        "1.2.3.4:80",
                                        "-a",
                                        "a-",
                                        "a..b",
                                        "a.b-",
                                        "x.Y_z",
                                        "a--b",
                                        "A_b",
                                        "a:",
                                        "a.-b",
                                        "a:5000:1"};
  const std::vector<std::string> separators{"/", "", ":"};
  const std::vector<std::string> rests{
      "", "app", "App", "a/b", "a//b", "app:1", "app:", "app:-x", "app:Tag_1.x", "a_b/c", "x:1:2"};
  const std::vector<std::string> digests{"", "@" + k_digest, "@sha256:abc", "@"};
  int accepted = 0;
  for (const auto& first : firsts) {
    for (const auto& separator : separators) {
      for (const auto& rest : rests) {
        for (const auto& digest : digests) {
          const auto text = first + separator + rest + digest;
          const bool expected = accepted_by_the_former_regex(text);
          EXPECT_EQ(check_image_reference(text).empty(), expected) << text;
          accepted += expected ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(accepted, 100);  // the corpus covers both sides
}

}  // namespace
}  // namespace sconectl::manifest
