#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/names.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sconectl::manifest
