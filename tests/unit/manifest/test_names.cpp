#include "sconectl/manifest/names.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

TEST(NamesTest, VariableNames)
{
  EXPECT_EQ(check_variable_name("API_USER"), "");
  EXPECT_EQ(check_variable_name("_x1"), "");
  EXPECT_NE(check_variable_name("1X"), "");
  EXPECT_NE(check_variable_name("API-USER"), "");
  EXPECT_NE(check_variable_name(""), "");
}

TEST(NamesTest, SecretNames)
{
  EXPECT_EQ(check_secret_name("redis_client-cert"), "");
  EXPECT_NE(check_secret_name("cert.crt"), "");
  EXPECT_NE(check_secret_name("a:b"), "");
  EXPECT_NE(check_secret_name(std::string(129, 'a')), "");
}

TEST(NamesTest, SessionNames)
{
  EXPECT_EQ(check_session_name("pythonapp-123-456"), "");
  EXPECT_EQ(check_session_name("ns/child/grandchild"), "");
  EXPECT_NE(check_session_name("ns//child"), "");
  EXPECT_NE(check_session_name("ns/.."), "");
  EXPECT_NE(check_session_name("with space"), "");
  EXPECT_NE(check_session_name(""), "");
}

TEST(NamesTest, ImageReferences)
{
  EXPECT_EQ(check_image_reference("python"), "");
  EXPECT_EQ(check_image_reference("127.0.0.1:5000/demo/python_hello_user:1"), "");
  EXPECT_EQ(check_image_reference("registry.scontain.com/sconectl/sconecli:latest"), "");
  EXPECT_EQ(check_image_reference("localhost:5000/app@sha256:" + std::string(64, 'a')), "");
  EXPECT_NE(check_image_reference("/python_hello_user:1"), "");
  EXPECT_NE(check_image_reference("Registry/App:1"), "");
  EXPECT_NE(check_image_reference("reg/app:"), "");
  EXPECT_NE(check_image_reference("reg/app:1 2"), "");
}

TEST(NamesTest, HostAndPort)
{
  EXPECT_EQ(check_host_port("cas.scone-system"), "");
  EXPECT_EQ(check_host_port("127.0.0.1:8081"), "");
  EXPECT_EQ(check_host_port("[::1]:8081"), "");
  EXPECT_NE(check_host_port("https://cas"), "");
  EXPECT_EQ(check_host_port("cas:99999"), "a port between 1 and 65535");
}

TEST(NamesTest, ClosestMatchSuggestsNearNamesOnly)
{
  const std::vector<std::string> names{"image", "name", "image_secrets"};
  EXPECT_EQ(closest_match("imag", names), "image");
  EXPECT_EQ(closest_match("image_secret", names), "image_secrets");
  EXPECT_EQ(closest_match("completely", names), "");
}

}  // namespace
}  // namespace sconectl::manifest
