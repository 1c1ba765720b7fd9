#include "sconectl/diff/session_diff.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sconectl::diff {
namespace {

using Json = model::SessionDocument;

Json session(const std::string& yaml)
{
  auto parsed = model::parse_session_yaml(yaml);
  if (!parsed) {
    throw std::runtime_error(parsed.error().message);
  }
  return *parsed;
}

const std::string k_old_measurement(64, 'a');
const std::string k_new_measurement(64, 'b');
const std::string k_password = "  - name: api_password\n    kind: ascii\n    size: 16\n";

// The hello-world session as the mesh step writes it, with the parts each test changes.
std::string hello(
    const std::string& measurement = k_old_measurement,
    const std::string& secrets = "  - name: api_password\n    kind: ascii\n    size: 16\n",
    const std::string& environment = "      API_USER: myself\n",
    const std::string& security = "    tolerate: [debug-mode, hyperthreading]\n",
    const std::string& access = "")
{
  return "version: \"0.3.10\"\nname: demo/hello\n" + access
         + "services:\n  - name: hello\n    command: python3 /app/main.py\n    pwd: /app\n"
           "    environment:\n      API_PASSWORD: \"$$SCONE::api_password$$\"\n"
         + environment + "    attestation:\n      mrenclave: [\"" + measurement + "\"]\n"
         + "secrets:\n" + secrets + "security:\n  attestation:\n" + security;
}

std::vector<std::string> kinds(const std::vector<Change>& changes)
{
  std::vector<std::string> found;
  for (const auto& change : changes) {
    found.push_back(change.kind);
  }
  return found;
}

TEST(SessionDiff, TheSameSessionHasNoChangesWhateverTheCasAdded)
{
  auto live = session(hello());
  live["creator"] = "someone";
  live["predecessor"] = std::string(64, 'c');
  EXPECT_TRUE(compare_sessions(live, session(hello())).empty());
}

TEST(SessionDiff, ANewMeasurementNamesTheOneRunningPodsLose)
{
  const auto changes = compare_sessions(session(hello()), session(hello(k_new_measurement)));
  ASSERT_EQ(kinds(changes), (std::vector<std::string>{"measurement-added", "measurement-removed"}));
  EXPECT_EQ(changes[1].area, Area::attestation);
  EXPECT_EQ(changes[1].subject, "service hello");
  EXPECT_EQ(changes[1].before, k_old_measurement);
  EXPECT_TRUE(changes[1].destructive);
  EXPECT_NE(changes[1].message.find("fail attestation at their next start"), std::string::npos);
  EXPECT_EQ(changes[0].after, k_new_measurement);
  EXPECT_FALSE(changes[0].destructive);
}

TEST(SessionDiff, AddedTolerationsAndIgnoredAdvisoriesWeakenAttestation)
{
  const auto changes = compare_sessions(
      session(hello()),
      session(hello(k_old_measurement,
                    "  - name: api_password\n    kind: ascii\n    size: 16\n",
                    "      API_USER: myself\n",
                    "    tolerate: [debug-mode, outdated-tcb]\n    ignore_advisories: \"*\"\n"
                    "    mode: none\n")));
  ASSERT_EQ(kinds(changes),
            (std::vector<std::string>{"toleration-added",
                                      "toleration-removed",
                                      "advisory-ignored",
                                      "attestation-mode-changed"}));
  EXPECT_TRUE(changes[0].weakens);
  EXPECT_EQ(changes[0].after, "outdated-tcb");
  EXPECT_FALSE(changes[1].weakens);
  EXPECT_EQ(changes[1].before, "hyperthreading");
  EXPECT_TRUE(changes[2].weakens);
  EXPECT_TRUE(changes[3].weakens);
  EXPECT_EQ(changes[3].before, "hardware");
  EXPECT_EQ(changes[3].after, "none");
}

TEST(SessionDiff, AnotherMaaUrlIsASecurityChange)
{
  const auto maa = [](const std::string& url) {
    return "    tolerate: [debug-mode, hyperthreading]\n    mode: maa\n    url: " + url + "\n";
  };
  const auto changes = compare_sessions(
      session(hello(
          k_old_measurement, k_password, "      API_USER: myself\n", maa("https://one.example"))),
      session(hello(
          k_old_measurement, k_password, "      API_USER: myself\n", maa("https://two.example"))));
  ASSERT_EQ(kinds(changes), std::vector<std::string>{"security-changed"});
  EXPECT_EQ(changes[0].after["attestation"]["url"], "https://two.example");
  EXPECT_FALSE(changes[0].after["attestation"].contains("tolerate"));
}

TEST(SessionDiff, ANewSizeRollsAGeneratedPasswordAndAnUnchangedOneIsKept)
{
  const auto rolled = compare_sessions(
      session(hello()),
      session(hello(k_old_measurement, "  - name: api_password\n    kind: ascii\n    size: 20\n")));
  ASSERT_EQ(kinds(rolled), std::vector<std::string>{"secret-regenerated"});
  EXPECT_TRUE(rolled[0].destructive);
  EXPECT_NE(rolled[0].message.find("size changes from 16 to 20"), std::string::npos);

  // Another change keeps an ascii secret as it is.
  const auto kept =
      compare_sessions(session(hello()),
                       session(hello(k_old_measurement,
                                     "  - name: api_password\n    kind: ascii\n    size: 16\n",
                                     "      API_USER: someone-else\n")));
  EXPECT_EQ(kinds(kept), std::vector<std::string>{"environment-changed"});
  EXPECT_EQ(kept[0].message, "service hello: API_USER changes");
}

TEST(SessionDiff, AnExplicitValueIsShownOnlyAsChanged)
{
  const std::string old_value = "old-Secret-4711";
  const std::string new_value = "new-Secret-0815";
  const auto changes = compare_sessions(
      session(hello(k_old_measurement,
                    "  - name: db\n    kind: ascii\n    value: " + old_value + "\n")),
      session(hello(k_old_measurement,
                    "  - name: db\n    kind: ascii\n    value: " + new_value + "\n")));
  ASSERT_EQ(kinds(changes), std::vector<std::string>{"secret-value-changed"});
  for (const auto& change : changes) {
    const auto text = to_json(change).dump();
    EXPECT_EQ(text.find(old_value), std::string::npos) << text;
    EXPECT_EQ(text.find(new_value), std::string::npos) << text;
  }
}

// Injection files belong to the image a service names (images[].injection_files), as the policy
// generator writes them.
void add_image(Json& document, const Json& files)
{
  document["services"][0]["image_name"] = "hello";
  document["images"] = Json::array({Json{{"name", "hello"}, {"injection_files", files}}});
}

TEST(SessionDiff, AChangedInjectionFileShowsItsContentsOnlyWhenAskedFor)
{
  auto before = session(hello());
  add_image(before, Json::array({Json{{"path", "/etc/app.conf"}, {"content", "token=OLD-4711"}}}));
  auto after = before;
  after["images"][0]["injection_files"][0]["content"] = "token=NEW-0815";
  const auto hidden = compare_sessions(before, after);
  ASSERT_EQ(kinds(hidden), std::vector<std::string>{"file-changed"});
  EXPECT_EQ(hidden[0].area, Area::program);
  EXPECT_EQ(hidden[0].subject, "image hello");
  EXPECT_EQ(hidden[0].message,
            "image hello of service hello: injection file /etc/app.conf changes");
  EXPECT_TRUE(hidden[0].values_hidden);
  const auto json = to_json(hidden[0]).dump();
  EXPECT_EQ(json.find("OLD-4711"), std::string::npos) << json;
  EXPECT_EQ(json.find("NEW-0815"), std::string::npos) << json;
  const auto shown = compare_sessions(before, after, CompareOptions{.show_values = true});
  ASSERT_EQ(shown.size(), 1U);
  EXPECT_EQ(shown[0].before["content"], "token=OLD-4711");
  EXPECT_EQ(shown[0].after["content"], "token=NEW-0815");
}

TEST(SessionDiff, ImagesAddedOrRemovedAndTheirFilesAreProgramChanges)
{
  auto before = session(hello());
  add_image(before, Json::array({Json{{"path", "/etc/app.conf"}, {"content", "x=1"}}}));
  before["images"].push_back(Json{{"name", "old"}});
  auto after = session(hello());
  add_image(after, Json::array());
  after["images"].push_back(Json{{"name", "new"}});
  const auto changes = compare_sessions(before, after);
  ASSERT_EQ(kinds(changes),
            (std::vector<std::string>{"file-removed", "image-added", "image-removed"}));
  EXPECT_EQ(changes[0].message,
            "image hello of service hello: injection file /etc/app.conf is removed");
  EXPECT_EQ(changes[1].message, "image new is added");
  EXPECT_EQ(changes[2].subject, "image old");
}

TEST(SessionDiff, AnAadTokensCredentialsAreNeverShown)
{
  const auto definition = [](const std::string& secret, const std::string& scope) {
    return "  - name: graph\n    kind: aad-token\n    tenant_id: TENANT-4711\n"
           "    client_id: CLIENT-4711\n    application_secret: "
           + secret + "\n    scope: " + scope + "\n";
  };
  for (const bool show : {false, true}) {
    const auto changes =
        compare_sessions(session(hello(k_old_measurement, definition("APPSECRET-OLD", "a"))),
                         session(hello(k_old_measurement, definition("APPSECRET-NEW", "b"))),
                         CompareOptions{.show_values = show});
    ASSERT_EQ(kinds(changes), std::vector<std::string>{"secret-definition-changed"});
    const auto json = to_json(changes[0]).dump();
    for (const auto* value : {"APPSECRET-OLD", "APPSECRET-NEW", "TENANT-4711", "CLIENT-4711"}) {
      EXPECT_EQ(json.find(value), std::string::npos) << value << " in " << json;
    }
    EXPECT_EQ(changes[0].values_hidden, !show);
  }
}

TEST(SessionDiff, ExportsNameWhoGainsOrLosesAccess)
{
  const auto changes = compare_sessions(
      session(hello(k_old_measurement,
                    "  - name: api_password\n    kind: ascii\n    size: 16\n"
                    "    export: [{session: demo/db}]\n")),
      session(hello(k_old_measurement,
                    "  - name: api_password\n    kind: ascii\n    size: 16\n"
                    "    export: [{namespace: other}]\n    export_public: true\n")));
  ASSERT_EQ(kinds(changes),
            (std::vector<std::string>{"export-added", "export-removed", "export-public-added"}));
  EXPECT_EQ(changes[0].message,
            "every session of namespace other gains access to secret api_password");
  EXPECT_TRUE(changes[0].weakens);
  EXPECT_EQ(changes[1].message, "session demo/db loses access to secret api_password");
  EXPECT_TRUE(changes[2].weakens);
}

std::string imported(const std::string& from)
{
  return "  - name: db_password\n    import:\n      session: " + from
         + "\n      secret: db_password\n";
}

TEST(SessionDiff, ImportsNameTheExportingSessionAndWhoGainsOrLosesAccess)
{
  const auto added =
      compare_sessions(session(hello(k_old_measurement, k_password)),
                       session(hello(k_old_measurement, k_password + imported("demo/db"))));
  ASSERT_EQ(kinds(added), std::vector<std::string>{"import-added"});
  EXPECT_EQ(added[0].area, Area::secrets);
  EXPECT_EQ(added[0].subject, "secret db_password");
  EXPECT_EQ(added[0].message,
            "session demo/hello gains access to secret db_password of session demo/db (imported "
            "as secret db_password)");
  EXPECT_EQ(added[0].after, (Json{{"session", "demo/db"}, {"secret", "db_password"}}));
  // The exporting session's export decides who may read; that is where access widens.
  EXPECT_FALSE(added[0].weakens);
  EXPECT_FALSE(added[0].destructive);

  const auto removed =
      compare_sessions(session(hello(k_old_measurement, k_password + imported("demo/db"))),
                       session(hello(k_old_measurement, k_password)));
  ASSERT_EQ(kinds(removed), std::vector<std::string>{"import-removed"});
  EXPECT_EQ(removed[0].message,
            "session demo/hello loses access to secret db_password of session demo/db (imported "
            "as secret db_password)");
  EXPECT_EQ(removed[0].before["session"], "demo/db");

  const auto moved =
      compare_sessions(session(hello(k_old_measurement, k_password + imported("demo/db"))),
                       session(hello(k_old_measurement, k_password + imported("demo/other"))));
  ASSERT_EQ(kinds(moved), std::vector<std::string>{"import-changed"});
  EXPECT_EQ(moved[0].message,
            "session demo/hello: secret db_password is imported from secret db_password of "
            "session demo/other instead of secret db_password of session demo/db");
}

TEST(SessionDiff, AnImportInPlaceOfAGeneratedSecretLosesItsValue)
{
  const auto changes = compare_sessions(
      session(hello(k_old_measurement, "  - name: db_password\n    kind: ascii\n")),
      session(hello(k_old_measurement, imported("demo/db"))));
  ASSERT_EQ(kinds(changes), std::vector<std::string>{"import-added"});
  EXPECT_TRUE(changes[0].destructive);
  EXPECT_NE(changes[0].message.find("the value CAS generated: it is gone for good"),
            std::string::npos);
  const auto back = compare_sessions(
      session(hello(k_old_measurement, imported("demo/db"))),
      session(hello(k_old_measurement, "  - name: db_password\n    kind: ascii\n")));
  ASSERT_EQ(kinds(back), std::vector<std::string>{"import-removed"});
  EXPECT_NE(back[0].message.find("CAS generates its value from now on"), std::string::npos);
}

TEST(SessionDiff, RemovedAndKindChangedGeneratedSecretsAreLostForGood)
{
  const auto changes =
      compare_sessions(session(hello(k_old_measurement,
                                     "  - name: api_password\n    kind: ascii\n    size: 16\n"
                                     "  - name: token\n    kind: binary\n")),
                       session(hello(k_old_measurement,
                                     "  - name: api_password\n    kind: binary\n    size: 16\n")));
  ASSERT_EQ(kinds(changes), (std::vector<std::string>{"secret-regenerated", "secret-removed"}));
  EXPECT_TRUE(changes[0].destructive);
  EXPECT_TRUE(changes[1].destructive);
  EXPECT_EQ(changes[1].subject, "secret token");
}

TEST(SessionDiff, PrivateKeysWithoutMigrateAreRegeneratedByAnyUpdate)
{
  const auto key = [](const std::string& migrate) {
    return "  - name: api_password\n    kind: ascii\n    size: 16\n  - name: key\n"
           "    kind: private-key\n"
           + migrate + "  - name: cert\n    kind: x509\n    private_key: key\n";
  };
  const auto changes =
      compare_sessions(session(hello(k_old_measurement, key(""))),
                       session(hello(k_old_measurement, key(""), "      API_USER: other\n")));
  EXPECT_EQ(kinds(changes),
            (std::vector<std::string>{
                "secret-regenerated", "certificate-reissued", "environment-changed"}));
  const auto migrated = compare_sessions(
      session(hello(k_old_measurement, key("    migrate: true\n"))),
      session(hello(k_old_measurement, key("    migrate: true\n"), "      API_USER: other\n")));
  EXPECT_EQ(kinds(migrated),
            (std::vector<std::string>{"certificate-reissued", "environment-changed"}));
}

TEST(SessionDiff, AccessPolicyChangesSayWhetherTheyWiden)
{
  const auto changes = compare_sessions(
      session(hello()),
      session(hello(k_old_measurement,
                    "  - name: api_password\n    kind: ascii\n    size: 16\n",
                    "      API_USER: myself\n",
                    "    tolerate: [debug-mode, hyperthreading]\n",
                    "access_policy:\n  read: [CREATOR, ANY]\n  update: [NONE]\n")));
  ASSERT_EQ(kinds(changes), (std::vector<std::string>{"access-widened", "access-narrowed"}));
  EXPECT_EQ(changes[0].subject, "access_policy.read");
  EXPECT_TRUE(changes[0].weakens);
  EXPECT_EQ(changes[0].after, (Json{"CREATOR", "ANY"}));
  EXPECT_EQ(changes[1].subject, "access_policy.update");
  EXPECT_FALSE(changes[1].weakens);
  EXPECT_EQ(changes[1].before, (Json{"CREATOR"}));
}

Json unchanged_program()
{
  auto live = session(hello());
  add_image(live, Json::array());
  return live;
}

Json changed_program()
{
  auto proposed = session(hello());
  auto& service = proposed["services"][0];
  service["command"] = "python3 /app/other.py";
  service["environment"].erase("API_USER");
  service["environment"]["GREETING"] = "$$SCONE::greeting$$";
  service["environment"]["LOCAL_SETTING"] = "a value written in the manifest";
  add_image(proposed, Json::array({Json{{"path", "/etc/app.conf"}, {"content", "x=1"}}}));
  return proposed;
}

TEST(SessionDiff, ProgramChangesNameVariablesAndFilesButHideTheirValues)
{
  const auto changes = compare_sessions(unchanged_program(), changed_program());
  ASSERT_EQ(kinds(changes),
            (std::vector<std::string>{"command-changed",
                                      "environment-added",
                                      "environment-added",
                                      "environment-removed",
                                      "file-added"}));
  EXPECT_EQ(changes[0].after, "python3 /app/other.py");  // the image shows the command anyway
  EXPECT_EQ(changes[0].message,
            "service hello: command changes from \"python3 /app/main.py\" to \"python3 "
            "/app/other.py\"");
  EXPECT_FALSE(changes[0].values_hidden);
  for (std::size_t i = 1; i < changes.size(); ++i) {
    const auto json = to_json(changes[i]).dump();
    EXPECT_TRUE(changes[i].values_hidden) << changes[i].message;
    for (const auto* value : {"myself", "a value written", "x=1", "SCONE::greeting"}) {
      EXPECT_EQ(json.find(value), std::string::npos) << value << " in " << json;
    }
  }
  EXPECT_EQ(changes[2].message, "service hello: LOCAL_SETTING is added");
  EXPECT_EQ(changes[3].message, "service hello: API_USER is removed");
}

TEST(SessionDiff, ACommandListIsShownAsJson)
{
  auto before = session(hello());
  before["services"][0]["command"] = Json{"python3", "greet.py"};
  auto after = before;
  after["services"][0]["command"] = Json{"python3", "-u", "greet.py"};
  after["services"][0].erase("pwd");
  const auto changes = compare_sessions(before, after);
  ASSERT_EQ(kinds(changes), (std::vector<std::string>{"command-changed", "pwd-changed"}));
  EXPECT_EQ(
      changes[0].message,
      R"(service hello: command changes from ["python3","greet.py"] to ["python3","-u","greet.py"])");
  EXPECT_EQ(changes[1].message, R"(service hello: pwd changes from "/app" to (none))");
}

TEST(SessionDiff, ShowValuesShowsPlainValuesAndReferencesAsReferences)
{
  const auto changes =
      compare_sessions(unchanged_program(), changed_program(), CompareOptions{.show_values = true});
  ASSERT_EQ(changes.size(), 5U);
  EXPECT_EQ(changes[1].after, "$$SCONE::greeting$$");
  EXPECT_EQ(changes[2].message,
            "service hello: LOCAL_SETTING=\"a value written in the manifest\" is added");
  EXPECT_EQ(changes[3].before, "myself");
  EXPECT_EQ(changes[4].after["content"], "x=1");
  for (const auto& change : changes) {
    EXPECT_FALSE(change.values_hidden);
  }
}

TEST(SessionDiff, AreasComeInOrderOfRisk)
{
  auto proposed = session(hello(k_new_measurement,
                                "  - name: api_password\n    kind: ascii\n    size: 32\n",
                                "      API_USER: other\n"));
  proposed["volumes"] = Json::array({Json{{"name", "v"}}});
  const auto changes = compare_sessions(session(hello()), proposed);
  std::vector<Area> areas;
  for (const auto& change : changes) {
    areas.push_back(change.area);
  }
  EXPECT_TRUE(std::is_sorted(areas.begin(), areas.end(), [](Area a, Area b) {
    return static_cast<int>(a) < static_cast<int>(b);
  }));
  EXPECT_EQ(changes.front().area, Area::attestation);
  EXPECT_EQ(changes.back().kind, "volumes-changed");
}

}  // namespace
}  // namespace sconectl::diff
