#include "sconectl/cas/client_config.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include <sys/stat.h>

namespace sconectl::cas {
namespace {

manifest::VariableLookup environment(std::map<std::string, std::string> values)
{
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto found = values.find(std::string(name));
    return found == values.end() ? std::nullopt : std::optional<std::string>(found->second);
  };
}

unsigned mode_of(const std::filesystem::path& path)
{
  struct stat status {};
  ::stat(path.c_str(), &status);
  return status.st_mode & 0777u;
}

TEST(ClientConfigPath, OptionThenSconectlVariableThenSconeVariableThenHome)
{
  const auto all = environment({{"SCONECTL_CAS_CONFIG", "/env-dir"},
                                {"SCONE_CLI_CONFIG", "/scone/config.json"},
                                {"HOME", "/home/u"}});
  EXPECT_EQ(*config_file_path(std::filesystem::path("/opt"), all), "/opt/config.json");
  EXPECT_EQ(*config_file_path(std::nullopt, all), "/env-dir/config.json");
  EXPECT_EQ(
      *config_file_path(std::nullopt,
                        environment({{"SCONE_CLI_CONFIG", "/s/c.json"}, {"HOME", "/home/u"}})),
      "/s/c.json");
  EXPECT_EQ(*config_file_path(std::nullopt, environment({{"HOME", "/home/u"}})),
            "/home/u/.cas/config.json");
  EXPECT_FALSE(config_file_path(std::nullopt, environment({})));
}

TEST(ClientConfig, IdentityIsCreatedOnceAndPrivateToTheOwner)
{
  testing::TempDir dir;
  const auto file = dir.path() / "cas" / "config.json";
  const auto first = load_or_create_identity(file);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(file.parent_path()), 0700u);
  EXPECT_TRUE(parse_identity(first->identity));
  const auto again = load_or_create_identity(file);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->identity, first->identity);
}

TEST(ClientConfig, ConcurrentFirstRunsEndWithOneIdentity)
{
  testing::TempDir dir;
  const auto file = dir.path() / "config.json";
  std::vector<std::string> identities(6);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < identities.size(); ++i) {
    threads.emplace_back([&, i] {
      auto config = load_or_create_identity(file);
      identities[i] = config ? config->identity : "failed";
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& identity : identities) {
    EXPECT_EQ(identity, identities.front());
  }
  EXPECT_NE(identities.front(), "failed");
}

TEST(ClientConfig, KeepsAttestedCasesAndFieldsItDoesNotKnow)
{
  testing::TempDir dir;
  const auto file = dir.write("config.json", R"({
    "default_cas": "cas:8081",
    "identity": "",
    "session_signing_key": "kept as is",
    "cas_db": {"cas:8081": {"url": "https://cas:8081/", "chain": "PEM"}}
  })");
  auto config = update_client_config(file, [](ClientConfig& current) -> Result<void> {
    current.cas_db["other:9"] =
        AttestedCas{.url = "https://other:9/", .cas_key = "k", .trust = TrustMode::any};
    return {};
  });
  ASSERT_TRUE(config) << config.error().message;
  const auto reread = load_client_config(file);
  ASSERT_TRUE(reread);
  EXPECT_EQ(reread->default_cas, "cas:8081");
  EXPECT_EQ(reread->other.at("session_signing_key"), "kept as is");
  ASSERT_EQ(reread->cas_db.size(), 2u);
  // An entry written by another tool is trusted by the key of the chain it recorded.
  EXPECT_EQ(reread->cas_db.at("cas:8081").trust, TrustMode::pinned_key);
  EXPECT_EQ(reread->cas_db.at("other:9").trust, TrustMode::any);
}

TEST(ClientConfig, ABrokenFileIsAnErrorNamingIt)
{
  testing::TempDir dir;
  const auto file = dir.write("config.json", "{not json");
  const auto config = load_client_config(file);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find(file.string()), std::string::npos);
  const auto bad_trust = dir.write("bad.json", R"({"cas_db": {"x:1": {"trust": "maybe"}}})");
  EXPECT_FALSE(load_client_config(bad_trust));
}

TEST(ClientConfig, AWronglyTypedFieldIsAnErrorNamingTheField)
{
  testing::TempDir dir;
  for (const auto& [text, field] :
       std::map<std::string, std::string>{{R"({"cas_db": {"x:1": {"cas_key": 42}}})", "cas_key"},
                                          {R"({"cas_db": {"x:1": {"trust": 1}}})", "trust"},
                                          {R"({"identity": ["pem"]})", "identity"},
                                          {R"({"default_cas": 7})", "default_cas"},
                                          {R"({"cas_db": []})", "cas_db"}}) {
    const auto file = dir.write("typed.json", text);
    const auto config = load_client_config(file);
    ASSERT_FALSE(config) << text;
    EXPECT_EQ(config.error().kind, ErrorKind::io);
    EXPECT_NE(config.error().message.find(field), std::string::npos) << config.error().message;
  }
}

// $SCONE_CLI_CONFIG may name a file in a directory shared with other files: leave its mode.
TEST(ClientConfig, AnExistingDirectoryKeepsItsMode)
{
  testing::TempDir dir;
  const auto shared = dir.path() / "shared";
  std::filesystem::create_directories(shared);
  ::chmod(shared.c_str(), 0755);
  ASSERT_TRUE(load_or_create_identity(shared / "scone.json"));
  EXPECT_EQ(mode_of(shared), 0755u);
  EXPECT_EQ(mode_of(shared / "scone.json"), 0600u);
}

}  // namespace
}  // namespace sconectl::cas
