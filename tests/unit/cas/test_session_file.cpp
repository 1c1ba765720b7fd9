#include "fake_cas.hpp"
#include "sconectl/cas/session_file.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace sconectl::cas {
namespace {

using testing::InMemoryCas;

constexpr const char* k_session = R"(# as the tutorials write them: unquoted version, comments
name: $NAMESPACE/api
version: 0.3.10
predecessor: "~"
services:
  - name: api
    command: ["/bin/api", "@@1"]
    pwd: /srv
    environment:
      PASSWORD: "$$SCONE::pw$$"
      USER: ${API_USER:-nobody}
      PRICE: "costs $$5"
    mrenclaves: [1111111111111111111111111111111111111111111111111111111111111111]
secrets:
  - name: pw
    kind: ascii
    size: 12
)";

class SessionFileTest : public ::testing::Test {
 protected:
  Result<model::SessionDocument> load(const std::string& text,
                                      std::map<std::string, std::string> set = {
                                          {"NAMESPACE", "shop"}})
  {
    const auto file = dir.write("session.yaml", text);
    return load_session_file(
        file,
        SessionFileOptions{.set = std::move(set), .environment = [this](std::string_view name) {
                             const auto found = env.find(std::string(name));
                             return found == env.end() ? std::optional<std::string>()
                                                       : found->second;
                           }});
  }
  sconectl::testing::TempDir dir;
  std::map<std::string, std::string> env{{"API_USER", "from-env"}, {"NAMESPACE", "env-ns"}};
};

// The second document used to be dropped silently, and only the first uploaded.
TEST_F(SessionFileTest, ASecondDocumentIsAnErrorNamingTheFileAndItsLine)
{
  const auto document = load(std::string(k_session) + "---\nname: shop/other\n");
  ASSERT_FALSE(document);
  const auto lines = std::count(k_session, k_session + std::strlen(k_session), '\n');
  EXPECT_EQ(document.error().message,
            (dir.path() / "session.yaml").string() + ": line " + std::to_string(lines + 1)
                + ", column 1: more than one YAML document: a second one starts here (after ---); "
                  "a file holds exactly one");
  const auto marked = load("---\n" + std::string(k_session) + "...\n");
  ASSERT_TRUE(marked) << marked.error().describe();
  EXPECT_EQ(marked->at("name"), "shop/api");
}

TEST_F(SessionFileTest, ExpandsVariablesButKeepsDoubleDollars)
{
  const auto document = load(k_session);
  ASSERT_TRUE(document) << document.error().describe();
  EXPECT_EQ(document->at("name"), "shop/api");  // -e wins over the environment
  const auto& environment = document->at("services")[0].at("environment");
  EXPECT_EQ(environment.at("USER"), "from-env");
  EXPECT_EQ(environment.at("PASSWORD"), "$$SCONE::pw$$");
  EXPECT_EQ(environment.at("PRICE"), "costs $$5");
  EXPECT_EQ(document->at("version"), "0.3.10");
  EXPECT_FALSE(document->contains("predecessor"));  // "~": none
  EXPECT_EQ(predecessor_of(*document), std::nullopt);
}

TEST_F(SessionFileTest, EveryUndefinedVariableIsNamedWithTheFile)
{
  env.clear();
  const auto refused = load("name: $FIRST/$SECOND\nversion: \"0.3.10\"\nx: ${THIRD}\n", {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::manifest);
  EXPECT_NE(refused.error().message.find("session.yaml"), std::string::npos);
  EXPECT_NE(refused.error().message.find("FIRST, SECOND, THIRD"), std::string::npos)
      << refused.error().message;
}

TEST_F(SessionFileTest, ProblemsAreDiagnosticsNamingTheFileAndField)
{
  const auto refused = load(
      "name: shop/api\nversion: \"0.3.10\"\nservices:\n  - name: api\n"
      "    command: [x]\n    pwd: /\n");
  ASSERT_FALSE(refused);
  ASSERT_FALSE(refused.error().diagnostics.empty());
  EXPECT_EQ(refused.error().diagnostics[0].path, "services[0].attestation");
  EXPECT_NE(refused.error().diagnostics[0].file.find("session.yaml"), std::string::npos);
  const auto yaml_error = load("name: [unclosed\n");
  ASSERT_FALSE(yaml_error);
  EXPECT_NE(yaml_error.error().message.find("line"), std::string::npos);
}

TEST_F(SessionFileTest, CreateUpdateAndConflict)
{
  InMemoryCas cas;
  CasClient client(cas);
  auto document = load(k_session);
  ASSERT_TRUE(document);
  EXPECT_FALSE(write_session(client, *document, SessionWriteMode::update, cas.requester))
      << "an update needs an existing session";
  const auto created = write_session(client, *document, SessionWriteMode::create, cas.requester);
  ASSERT_TRUE(created) << created.error().describe();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->hash, expected_session_hash(*document, cas.requester))
      << "check prints the hash create gets";
  EXPECT_EQ(cas.versions.at("shop/api").back().hash, created->hash);

  // Update without a predecessor: the current one is read.
  env["API_USER"] = "someone-else";
  auto changed = load(k_session);
  ASSERT_TRUE(changed);
  const auto updated = write_session(client, *changed, SessionWriteMode::update, cas.requester);
  ASSERT_TRUE(updated) << updated.error().describe();
  EXPECT_FALSE(updated->created);
  EXPECT_EQ(updated->predecessor, created->hash);

  // An explicit, stale predecessor: 409, exit-1 class, both hashes named.
  (*changed)["predecessor"] = created->hash;
  const auto stale = write_session(client, *changed, SessionWriteMode::update, cas.requester);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  EXPECT_NE(stale.error().describe().find(updated->hash), std::string::npos);

  // create with a predecessor updates on it, as `scone session create` does: a stale one
  // conflicts, the current one updates. A second create of the same name conflicts.
  EXPECT_EQ(write_session(client, *changed, SessionWriteMode::create, cas.requester).error().kind,
            ErrorKind::conflict);
  (*changed)["predecessor"] = updated->hash;
  (*changed)["services"][0]["environment"]["RELEASE"] = "3";
  const auto by_create = write_session(client, *changed, SessionWriteMode::create, cas.requester);
  ASSERT_TRUE(by_create) << by_create.error().describe();
  EXPECT_FALSE(by_create->created);
  EXPECT_EQ(by_create->predecessor, updated->hash);
  EXPECT_FALSE(write_session(client, *document, SessionWriteMode::create, cas.requester));
  // A predecessor of a session the CAS does not have: nothing to update.
  auto unknown = *document;
  unknown["name"] = "nobody";
  unknown["predecessor"] = updated->hash;
  const auto refused = write_session(client, unknown, SessionWriteMode::create, cas.requester);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::usage);
  EXPECT_NE(refused.error().message.find("has no such session"), std::string::npos);
}

TEST_F(SessionFileTest, AnUpdateByAnotherClientKeepsTheCreatorInTheHash)
{
  InMemoryCas cas;
  CasClient client(cas);
  auto document = load(k_session);
  ASSERT_TRUE(document);
  ASSERT_TRUE(write_session(client, *document, SessionWriteMode::create, cas.requester));
  cas.requester = "another-client";
  const auto updated = write_session(client, *document, SessionWriteMode::update, "another-client");
  ASSERT_TRUE(updated) << updated.error().describe();
}

}  // namespace
}  // namespace sconectl::cas
