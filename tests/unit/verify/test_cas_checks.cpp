// verify's CAS checks: current versions against what the manifests produce, the histories against
// target/cas/sessions.json, the CAS's identity, the production lint and the redaction of stored
// sessions. The CAS is the in-memory one, so the histories are read as from a real CAS.
#include "fake_cas.hpp"
#include "finding_kinds.hpp"
#include "sconectl/cas/client.hpp"
#include "sconectl/verify/cas_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sconectl::verify {
namespace {

model::SessionDocument app_session(const std::string& tolerate = "outdated-tcb")
{
  auto document = model::SessionDocument::parse(R"({
    "name": "demo/app", "version": "0.3.10",
    "services": [{"name": "app", "image_name": "app", "command": ["python3", "app.py"],
                  "attestation": {"mrenclave": ["1111111111111111111111111111111111111111111111111111111111111111"]},
                  "environment": {"API_USER": "visible-user-8f1e", "API_PASSWORD": "$$SCONE::api_password$$"}}],
    "images": [{"name": "app", "injection_files": [{"path": "/etc/app.conf", "content": "token=file-secret-77c2"}]}],
    "secrets": [{"name": "api_password", "kind": "ascii", "size": 16},
                {"name": "api_token", "kind": "ascii", "value": "explicit-value-5d3a"}],
    "security": {"attestation": {"tolerate": []}}
  })");
  document["security"]["attestation"]["tolerate"].push_back(tolerate);
  return document;
}

class CasChecksTest : public ::testing::Test {
 protected:
  // Uploads `document` as the next version of its session, as `who`; returns its hash.
  std::string upload(model::SessionDocument document, const std::string& who = "test-client-key")
  {
    const auto name = document.at("name").get<std::string>();
    if (const auto& history = m_cas.versions[name]; !history.empty()) {
      document["predecessor"] = history.back().hash;
    }
    const auto response = m_cas.post(model::to_yaml(document), who);
    EXPECT_LT(response.status, 300) << response.body;
    return m_cas.versions[name].back().hash;
  }

  CasState read(const cas::UploadRecord& record)
  {
    cas::CasClient client(m_cas);
    auto state = read_cas_state(client, {"demo/app"}, record, 1000);
    EXPECT_TRUE(state) << state.error().describe();
    state->address = "127.0.0.1:8081";
    state->trust = "pinned-key";
    state->key_hash = "cas-key";
    return *state;
  }

  testing::InMemoryCas m_cas;
  std::vector<model::Session> m_produced{{"demo/app", app_session()}};
};

TEST_F(CasChecksTest, TheSessionTheManifestsProduceWithItsRecordedHistoryVerifiesClean)
{
  const auto first = upload(app_session("hyperthreading"));
  const auto second = upload(app_session());
  const cas::UploadRecord record{.cas = "127.0.0.1:8081",
                                 .chains = {{"demo/app", {second, first}}}};
  const auto state = read(record);
  ASSERT_EQ(state.sessions.at(0).versions.size(), 2U);
  EXPECT_TRUE(check_cas(state, m_produced, record).empty());
}

TEST_F(CasChecksTest, AnotherIdentitysUpdateIsADifferenceWithItsChangesAndAForeignVersion)
{
  const auto ours = upload(app_session());
  const auto theirs = upload(app_session("debug-mode"), "someone-else");
  const cas::UploadRecord record{.cas = "127.0.0.1:8081", .chains = {{"demo/app", {ours}}}};
  const auto findings = check_cas(read(record), m_produced, record);
  EXPECT_EQ(finding_kinds(findings),
            (std::vector<std::string>{"error:session-differs", "warning:foreign-version"}));
  const auto differs = std::find_if(
      findings.begin(), findings.end(), [](const auto& f) { return f.kind == "session-differs"; });
  EXPECT_NE(differs->message.find(theirs), std::string::npos);
  const auto details = differs->details.empty() ? std::string() : differs->details.front();
  // From the CAS's version to the manifests' one: debug-mode would be dropped again.
  EXPECT_NE(details.find("debug-mode"), std::string::npos) << details;
  const auto foreign = std::find_if(
      findings.begin(), findings.end(), [](const auto& f) { return f.kind == "foreign-version"; });
  EXPECT_NE(foreign->message.find(theirs), std::string::npos);
}

// Another identity's changed values: none of them (old or new) is in the report, which says
// that a value it does not show differs. (Compared redacted, as a bundle checked offline holds
// them, so that both give the same report.)
TEST_F(CasChecksTest, ChangedValuesAreNotShown)
{
  const auto ours = upload(app_session());
  auto changed = app_session();
  changed["services"][0]["environment"]["API_USER"] = "mallory-31d0";
  changed["images"][0]["injection_files"][0]["content"] = "token=their-file-6b2a";
  changed["secrets"][1]["value"] = "their-value-c47e";
  upload(changed, "someone-else");
  const cas::UploadRecord record{.cas = "127.0.0.1:8081", .chains = {{"demo/app", {ours}}}};
  const auto findings = check_cas(read(record), m_produced, record);
  const auto differs = std::find_if(
      findings.begin(), findings.end(), [](const auto& f) { return f.kind == "session-differs"; });
  ASSERT_NE(differs, findings.end());
  std::string report;
  for (const auto& finding : findings) {
    report += finding.message + "\n";
    for (const auto& detail : finding.details) {
      report += detail + "\n";
    }
  }
  EXPECT_NE(report.find("a value that is not shown"), std::string::npos) << report;
  for (const char* value : {"visible-user-8f1e",
                            "mallory-31d0",
                            "file-secret-77c2",
                            "their-file-6b2a",
                            "explicit-value-5d3a",
                            "their-value-c47e"}) {
    EXPECT_EQ(report.find(value), std::string::npos) << value << " in\n" << report;
  }
}

TEST_F(CasChecksTest, AMissingSessionAndARewrittenHistoryAreErrors)
{
  const cas::UploadRecord nothing{.cas = "127.0.0.1:8081"};
  EXPECT_EQ(finding_kinds(check_cas(read(nothing), m_produced, nothing)),
            (std::vector<std::string>{"error:session-missing"}));

  upload(app_session());
  const cas::UploadRecord record{.cas = "127.0.0.1:8081",
                                 .chains = {{"demo/app", {std::string(64, 'e')}}}};
  EXPECT_EQ(
      finding_kinds(check_cas(read(record), m_produced, record)),
      (std::vector<std::string>{"error:recorded-version-missing", "warning:foreign-version"}));
}

TEST_F(CasChecksTest, AHistoryWithoutARecordIsCheckedForIntegrityOnly)
{
  upload(app_session());
  const cas::UploadRecord nothing{.cas = "127.0.0.1:8081"};
  EXPECT_EQ(finding_kinds(check_cas(read(nothing), m_produced, nothing)),
            (std::vector<std::string>{"warning:history-unrecorded"}));
}

TEST_F(CasChecksTest, ABrokenChainAnUnpinnedCasAndAnotherKeyAreErrors)
{
  const auto first = upload(app_session("hyperthreading"));
  const auto second = upload(app_session());
  const cas::UploadRecord record{.cas = "127.0.0.1:8081",
                                 .cas_key = "the-key-of-the-uploads",
                                 .chains = {{"demo/app", {second, first}}}};
  auto state = read(record);
  state.trust = "any";
  // As a forged bundle: the current version names another predecessor, so neither the chain
  // nor the current hash holds.
  state.sessions.at(0).versions.at(0).predecessor = std::string(64, 'a');
  EXPECT_EQ(finding_kinds(check_cas(state, m_produced, record)),
            (std::vector<std::string>{"error:cas-key-changed",
                                      "error:cas-not-pinned",
                                      "error:history-broken",
                                      "error:session-differs"}));
}

TEST_F(CasChecksTest, TheLintNamesEachWeaknessWithItsSessionAndField)
{
  auto weak = app_session("debug-mode");
  weak["security"]["attestation"]["tolerate"].push_back("simulation");
  weak["security"]["attestation"]["ignore_advisories"] = "*";
  weak["services"][0]["attestation"] = {{"mode", "none"}};
  weak["secrets"][1]["export_public"] = true;
  weak["secrets"].push_back({{"name", "cert"}, {"kind", "x509"}, {"export_public", true}});
  weak["access_policy"] = {{"read", {"CREATOR"}}, {"update", {"ANY"}}};
  upload(weak);
  const cas::UploadRecord record{.cas = "127.0.0.1:8081"};
  const auto state = read(record);
  const auto production = lint_policies(state, true);
  EXPECT_EQ(finding_kinds(production),
            (std::vector<std::string>{"error:anyone-may-update",
                                      "error:attestation-mode-none",
                                      "error:ignores-all-advisories",
                                      "error:secret-exported-to-everybody",
                                      "error:tolerates-debug-mode",
                                      "error:tolerates-simulation"}));
  std::vector<std::string> subjects;
  for (const auto& finding : production) {
    subjects.push_back(finding.subject);
  }
  std::sort(subjects.begin(), subjects.end());
  EXPECT_EQ(subjects,
            (std::vector<std::string>{"session demo/app: access_policy.update",
                                      "session demo/app: secrets[1].export_public",
                                      "session demo/app: security.attestation.ignore_advisories",
                                      "session demo/app: security.attestation.tolerate",
                                      "session demo/app: security.attestation.tolerate",
                                      "session demo/app: services[0].attestation.mode"}));
  for (const auto& finding : lint_policies(state, false)) {
    EXPECT_EQ(finding.severity, Severity::warning) << finding.kind;
  }
}

TEST_F(CasChecksTest, ARedactedSessionHoldsNoValueAManifestOrTheCasCouldKeepSecret)
{
  auto session = app_session();
  // An aad-token's credentials, which SCONE's CAS stores (the local CAS refuses the kind).
  session["secrets"].push_back({{"name", "token"},
                                {"kind", "aad-token"},
                                {"application_secret", "aad-secret-41b9"},
                                {"tenant_id", "aad-tenant-0c6e"},
                                {"client_id", "aad-client-93fa"}});
  const auto redacted = redact_session(session).dump();
  for (const char* value : {"explicit-value-5d3a",
                            "visible-user-8f1e",
                            "file-secret-77c2",
                            "aad-secret-41b9",
                            "aad-tenant-0c6e",
                            "aad-client-93fa"}) {
    EXPECT_EQ(redacted.find(value), std::string::npos) << value << " in " << redacted;
  }
  // References, names and the policy's shape stay.
  for (const char* kept :
       {"$$SCONE::api_password$$", "API_USER", "/etc/app.conf", "outdated-tcb"}) {
    EXPECT_NE(redacted.find(kept), std::string::npos) << kept;
  }
}

}  // namespace
}  // namespace sconectl::verify
