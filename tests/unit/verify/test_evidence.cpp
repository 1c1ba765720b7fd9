// Evidence bundles: deterministic, free of secret values, read back exactly, and refused when a
// byte changed or a file was added.
#include "sconectl/util/file_tree.hpp"
#include "sconectl/verify/verify.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace sconectl::verify {
namespace {

Evidence sample()
{
  Evidence evidence;
  evidence.cas =
      CasState{.address = "127.0.0.1:8081", .trust = "pinned-key", .key_hash = "cas-key"};
  auto document = model::SessionDocument::parse(R"({
    "name": "demo/app", "version": "0.3.10",
    "services": [{"name": "app", "environment": {"API_USER": "local-value-31c9", "P": "$$SCONE::p$$"}}],
    "secrets": [{"name": "token", "kind": "ascii", "value": "explicit-value-a0b7"}]
  })");
  evidence.cas.sessions.push_back(
      {.name = "demo/app",
       .versions = {{.hash = std::string(64, 'b'),
                     .predecessor = std::string(64, 'a'),
                     .creator = "me",
                     .document = document},
                    {.hash = std::string(64, 'a'), .creator = "me", .document = document}}});
  evidence.cas.sessions.push_back({.name = "demo"});
  evidence.images.push_back({.service = "app",
                             .session = "demo/app",
                             .image = "img:1",
                             .digest = "sha256:1",
                             .measurement = "m"});
  evidence.cluster = ClusterState{.namespace_name = "ns", .release = "rel"};
  evidence.cluster->pods.push_back(
      {.name = "rel-app-1",
       .service = "app",
       .phase = "Running",
       .ready = true,
       .containers = {{.name = "app", .image_id = "img@sha256:1", .ready = true}}});
  return evidence;
}

std::vector<Finding> findings()
{
  return {{.severity = Severity::warning,
           .area = Area::history,
           .kind = "foreign-version",
           .subject = "demo/app",
           .message = "someone else"}};
}

TEST(EvidenceTest, TheLayoutIsDeterministicAndHoldsNoSecretValue)
{
  const auto files = evidence_files(sample(), findings());
  EXPECT_EQ(files, evidence_files(sample(), findings()));
  std::vector<std::string> paths;
  for (const auto& [path, content] : files) {
    paths.push_back(path);
    for (const char* secret : {"explicit-value-a0b7", "local-value-31c9"}) {
      EXPECT_EQ(content.find(secret), std::string::npos) << secret << " in " << path;
    }
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"SHA256SUMS",
                                      "cas.json",
                                      "cluster.json",
                                      "images.json",
                                      "sessions.json",
                                      "sessions/demo.json",
                                      "sessions/demo/app.json",
                                      "summary.json"}));
}

TEST(EvidenceTest, ABundleReadsBackAsWrittenAndItsChecksGiveTheSameFindings)
{
  testing::TempDir dir;
  const auto bundle = dir.path() / "evidence";
  ASSERT_TRUE(fs::replace_directory(bundle, evidence_files(sample(), findings())));
  const auto loaded = load_evidence(bundle);
  ASSERT_TRUE(loaded) << loaded.error().describe();
  // Written again from what was read, the bundle is byte for byte the same.
  EXPECT_EQ(evidence_files(*loaded, findings()), evidence_files(sample(), findings()));
  const Approved approved{.images = sample().images, .production = false};
  EXPECT_EQ(report_json(*loaded, check(*loaded, approved)),
            report_json(sample(), check(sample(), approved)));
}

// sessions.json of another CAS (the target directory applied elsewhere before): its hashes are no
// history of this CAS's sessions, so nothing is "recorded-version-missing".
TEST(EvidenceTest, ARecordOfAnotherCasIsNotThisCassHistory)
{
  Approved approved{.sessions = {{"demo/app", sample().cas.sessions.at(0).versions.at(0).document}},
                    .images = sample().images,
                    .production = false};
  approved.record =
      cas::UploadRecord{.cas = "10.0.0.9:8081", .chains = {{"demo/app", {std::string(64, 'c')}}}};
  for (const auto& finding : check(sample(), approved)) {
    EXPECT_NE(finding.kind, "recorded-version-missing");
    EXPECT_NE(finding.kind, "foreign-version");
  }
  approved.record.cas = "127.0.0.1:8081";
  const auto findings = check(sample(), approved);
  EXPECT_TRUE(std::any_of(findings.begin(), findings.end(), [](const auto& f) {
    return f.kind == "recorded-version-missing";
  }));
}

TEST(EvidenceTest, OneChangedByteOrAnAddedFileIsRefusedNamingTheFile)
{
  testing::TempDir dir;
  const auto bundle = dir.path() / "evidence";
  ASSERT_TRUE(fs::replace_directory(bundle, evidence_files(sample(), findings())));
  const auto file = bundle / "sessions" / "demo" / "app.json";
  std::string content;
  {
    std::ifstream in(file);
    content.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = content.find("\"me\"");
  ASSERT_NE(at, std::string::npos);
  content[at + 1] = 'w';
  std::ofstream(file, std::ios::trunc) << content;
  auto loaded = load_evidence(bundle);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, ErrorKind::manifest);
  EXPECT_NE(loaded.error().message.find("sessions/demo/app.json: changed since"), std::string::npos)
      << loaded.error().message;

  ASSERT_TRUE(fs::replace_directory(bundle, evidence_files(sample(), findings())));
  std::ofstream(bundle / "extra.json") << "{}";
  loaded = load_evidence(bundle);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("extra.json: not part of the evidence bundle"),
            std::string::npos)
      << loaded.error().message;
}

}  // namespace
}  // namespace sconectl::verify
