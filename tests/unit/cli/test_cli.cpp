#include "fake_cas.hpp"
#include "manifest_text.hpp"
#include "mesh_fixture.hpp"
#include "sconectl/cas/client_config.hpp"
#include "sconectl/cli/app.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace sconectl::cli {
namespace {

using sconectl::testing::k_minimal_service;
using sconectl::testing::TempDir;

// Records commands; the CLI must not start any process for validate or print-defaults.
class RefusingProcessRunner final : public ProcessRunner {
 public:
  Result<Completed> run(const Command& command) override
  {
    started.push_back(command);
    return fail(ErrorKind::process, "no process may run in this test");
  }
  std::vector<Command> started;
};

class CliTest : public ::testing::Test {
 protected:
  int run_cli(std::vector<std::string> args, std::map<std::string, std::string> env = {})
  {
    out.str("");
    err.str("");
    std::vector<const char*> argv{"sconectl"};
    for (const auto& arg : args) {
      argv.push_back(arg.c_str());
    }
    Services services{.processes = processes,
                      .out = out,
                      .err = err,
                      .variables = sconectl::testing::variables(std::move(env)),
                      .cas_transport = cas_transport};
    return run(static_cast<int>(argv.size()), argv.data(), services);
  }

  RefusingProcessRunner processes;
  cas::TransportFactory cas_transport = cas::curl_transport_factory();
  std::ostringstream out;
  std::ostringstream err;
  TempDir dir;
};

TEST_F(CliTest, VersionCommandReportsBuildAndLibraries)
{
  ASSERT_EQ(run_cli({"version", "--format", "json"}), 0) << err.str();
  const auto report = nlohmann::json::parse(out.str());
  EXPECT_EQ(report.at("version"), "0.1.0");
  EXPECT_FALSE(report.at("git_commit").get<std::string>().empty());
  EXPECT_FALSE(report.at("build_type").get<std::string>().empty());
  for (const char* library : {"yaml-cpp",
                              "OpenSSL",
                              "libcurl",
                              "SQLite",
                              "spdlog",
                              "CLI11",
                              "nlohmann_json",
                              "libyaml",
                              "libarchive",
                              "cpp-httplib"}) {
    const auto& entry = report.at("libraries").at(library);
    EXPECT_FALSE(entry.at("version").get<std::string>().empty()) << library;
    EXPECT_TRUE(entry.at("seen") == "run time" || entry.at("seen") == "build time") << library;
  }
  EXPECT_NE(
      report.at("libraries").at("OpenSSL").at("version").get<std::string>().find("OpenSSL 3."),
      std::string::npos);
  EXPECT_TRUE(report.contains("runtime_sim"));
  // The global --format applies too; text names the same facts.
  ASSERT_EQ(run_cli({"--format", "json", "version"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out.str()).at("version"), "0.1.0");
  ASSERT_EQ(run_cli({"version"}), 0);
  EXPECT_EQ(out.str().rfind("sconectl 0.1.0\ngit commit: ", 0), 0u) << out.str();
  EXPECT_NE(out.str().find("  yaml-cpp 0."), std::string::npos) << out.str();
  EXPECT_EQ(run_cli({"version", "--format", "yaml"}), 2);
}

TEST_F(CliTest, CasServeHelpSaysWhatItAttests)
{
  ASSERT_EQ(run_cli({"cas", "--help"}), 0);
  EXPECT_EQ(out.str().find("does not attest"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("attests simulated programs only: no SGX, no hardware protection"),
            std::string::npos)
      << out.str();
}

TEST_F(CliTest, CompletionScriptsFollowTheCommandTree)
{
  ASSERT_EQ(run_cli({"completion", "bash"}), 0) << err.str();
  const auto bash = out.str();
  EXPECT_NE(bash.find("'') echo 'validate apply diff verify cas session self version' ;;"),
            std::string::npos)
      << bash;
  EXPECT_NE(bash.find("'cas') echo 'attest show-certificate serve' ;;"), std::string::npos);
  EXPECT_NE(bash.find("'apply|--runtime') echo 'none sim' ;;"), std::string::npos);
  EXPECT_NE(bash.find("'validate|-f'|'validate|--filename') echo '@files' ;;"), std::string::npos);
  EXPECT_NE(bash.find("complete -F _sconectl sconectl"), std::string::npos);
  ASSERT_EQ(run_cli({"completion", "zsh"}), 0);
  EXPECT_EQ(out.str().rfind("#compdef sconectl\n", 0), 0u);
  EXPECT_NE(out.str().find("'validate:Check service and mesh manifests"), std::string::npos);
  // Hidden: not a command users see in --help.
  ASSERT_EQ(run_cli({"--help"}), 0);
  EXPECT_EQ(out.str().find("completion"), std::string::npos);
  EXPECT_EQ(run_cli({"completion", "fish"}), 2);
}

TEST_F(CliTest, VersionAndHelpExitZero)
{
  EXPECT_EQ(run_cli({"--version"}), 0);
  EXPECT_EQ(out.str(), "sconectl 0.1.0\n");
  EXPECT_EQ(run_cli({"--help"}), 0);
  EXPECT_NE(out.str().find("validate"), std::string::npos);
  EXPECT_EQ(run_cli({"apply", "--help"}), 0);
  EXPECT_NE(out.str().find("--print-defaults"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitTwo)
{
  EXPECT_EQ(run_cli({}), 2);
  EXPECT_EQ(run_cli({"frobnicate"}), 2);
  EXPECT_EQ(run_cli({"validate"}), 2);
  EXPECT_NE(err.str().find("--filename is required"), std::string::npos) << err.str();
  EXPECT_EQ(run_cli({"apply", "-f", "x.yaml", "--mode", "fast"}), 2);
  EXPECT_EQ(run_cli({"--format", "xml", "validate", "-f", "x.yaml"}), 2);
}

TEST_F(CliTest, ValidateReportsValidAndInvalidFiles)
{
  const auto good = dir.write("good.yaml", k_minimal_service).string();
  const auto bad = dir.write("bad.yaml", "apiVersion: scone/5.8\nkind: mesh\n").string();
  EXPECT_EQ(run_cli({"validate", "-f", good}), 0);
  EXPECT_EQ(out.str(), good + ": valid genservice manifest\n");
  EXPECT_EQ(err.str(), "");

  EXPECT_EQ(run_cli({"validate", "-f", good, "-f", bad}), 2);
  EXPECT_EQ(out.str(), good + ": valid genservice manifest\n");
  EXPECT_EQ(err.str(), bad + ":1:1: cas: required field is missing\n" + bad
                           + ":1:1: policy: required field is missing\n" + bad
                           + ":1:1: env: required field is missing\n" + bad
                           + ":1:1: services: required field is missing\n"
                             "sconectl: error: "
                           + bad + " is invalid (4 errors)\n");
  EXPECT_TRUE(processes.started.empty());
}

TEST_F(CliTest, ValidateReportsAMissingFile)
{
  EXPECT_EQ(run_cli({"validate", "-f", "/nonexistent/service.yaml"}), 2);
  EXPECT_EQ(err.str(),
            "/nonexistent/service.yaml: cannot read the file: No such file or directory\n"
            "sconectl: error: cannot read /nonexistent/service.yaml\n");
}

TEST_F(CliTest, ApplyReportsAMissingFileAsUnreadable)
{
  EXPECT_EQ(run_cli({"apply", "-f", "/nonexistent/mesh.yaml", "--dry-run"}), 2);
  EXPECT_EQ(err.str(),
            "/nonexistent/mesh.yaml: cannot read the file: No such file or directory\n"
            "sconectl: error: cannot read /nonexistent/mesh.yaml\n");
  EXPECT_TRUE(processes.started.empty());
}

TEST_F(CliTest, ValidateSpeaksJson)
{
  const auto bad = dir.write("bad.yaml", "apiVersion: scone/5.8\nkind: genservice\nbuild: []\n");
  EXPECT_EQ(run_cli({"--format", "json", "validate", "-f", bad.string()}), 2);
  const auto result = nlohmann::json::parse(out.str());
  EXPECT_EQ(result["valid"], false);
  ASSERT_EQ(result["manifests"].size(), 1U);
  EXPECT_EQ(result["manifests"][0]["kind"], "genservice");
  const auto& diagnostics = result["manifests"][0]["diagnostics"];
  ASSERT_EQ(diagnostics.size(), 2U);
  EXPECT_EQ(diagnostics[1]["path"], "build");
  EXPECT_EQ(diagnostics[1]["line"], 3);
  EXPECT_EQ(diagnostics[1]["message"], "expected a mapping, got a list");
  EXPECT_EQ(err.str(), "");
}

TEST_F(CliTest, StrictTurnsWarningsIntoErrors)
{
  const auto file =
      dir.write("s.yaml", std::string(k_minimal_service) + "extra_field: 1\n").string();
  EXPECT_EQ(run_cli({"validate", "-f", file}), 0);
  EXPECT_EQ(err.str(), file + ":12:1: warning: unknown field 'extra_field'\n");
  EXPECT_EQ(run_cli({"validate", "--strict", "-f", file}), 2);
}

TEST_F(CliTest, PrintDefaultsListsVariablesWithoutValues)
{
  const auto file = dir.write("s.yaml", R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: TOKEN
      value: $SECRET_TOKEN
  global:
    - name: API_USER
    - name: GREETING
      value: Hello
build:
  name: hello
  kind: python
  to: ${REPO:-localhost:5000/demo}/hello:1
  command: python3 hello.py
)");
  EXPECT_EQ(run_cli({"apply", "-f", file.string(), "-p"}, {{"SECRET_TOKEN", "s3cr3t-value"}}), 0)
      << err.str();
  EXPECT_EQ(out.str(),
            "Environment variables used by " + file.string()
                + " (expanded by sconectl):\n"
                  "  SECRET_TOKEN  required  (set)\n"
                  "  REPO          default: localhost:5000/demo  (not set)\n"
                  "Variables the mesh sets (environment.global and {{NAME}} references):\n"
                  "  API_USER  required\n"
                  "  GREETING  default: Hello\n");
  EXPECT_EQ(out.str().find("s3cr3t"), std::string::npos);
}

TEST_F(CliTest, PrintDefaultsWorksWithUnsetVariables)
{
  const auto file = dir.write("s.yaml", std::string(k_minimal_service) + "  from: $BASE_IMAGE\n");
  EXPECT_EQ(run_cli({"--format", "json", "apply", "-f", file.string(), "-p"}), 0) << err.str();
  const auto result = nlohmann::json::parse(out.str());
  ASSERT_EQ(result["environment"].size(), 1U);
  EXPECT_EQ(result["environment"][0]["name"], "BASE_IMAGE");
  EXPECT_EQ(result["environment"][0]["set"], false);
}

TEST_F(CliTest, ApplyRejectsAnInvalidManifestBeforeDoingAnything)
{
  const auto file = dir.write("s.yaml", "apiVersion: scone/5.8\nkind: genservice\n");
  EXPECT_EQ(run_cli({"apply", "-f", file.string(), "-t", (dir.path() / "target").string()}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "target"));
  EXPECT_TRUE(processes.started.empty());
}

class CasCliTest : public CliTest {
 protected:
  std::map<std::string, std::string> cas_env()
  {
    return {{"SCONECTL_CAS_CONFIG", (dir.path() / "cas").string()}, {"HOME", dir.path().string()}};
  }

  // `apply -f mesh.yaml` on a one-service mesh whose CAS entry ends with `cas_extra` lines;
  // returns the exit code and leaves the target directory's path in `target`.
  int apply_mesh(const std::string& cas_extra)
  {
    const auto mesh = dir.write("mesh.yaml",
                                "apiVersion: scone/5.8\nkind: mesh\ncas:\n  - name: cas\n"
                                "    cas_url: 127.0.0.1:9\n"
                                    + cas_extra + R"(policy:
  namespace: demo
env:
  - service: global
    env:
      - name: API_USER
        value: someone
services:
  - name: api
    image: registry.example.com/api:1
)");
    target = (dir.path() / "target").string();
    return run_cli({"apply", "-f", mesh.string(), "-t", target}, cas_env());
  }
  std::string target;
};

TEST_F(CasCliTest, AttestNeedsExactlyOneWayToTrustTheCas)
{
  EXPECT_EQ(run_cli({"cas", "attest", "127.0.0.1:9"}, cas_env()), 2);
  EXPECT_NE(err.str().find("--cas-key"), std::string::npos);
  EXPECT_EQ(
      run_cli({"cas", "attest", "127.0.0.1:9", "--cas-key", "x", "--ca-file", "ca.pem"}, cas_env()),
      2);
  EXPECT_EQ(run_cli({"cas", "attest", "127.0.0.1:9", "--cas-key", "not-a-key-hash"}, cas_env()), 2);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cas" / "config.json"))
      << "a refused attest must not record anything";
}

TEST_F(CasCliTest, TrustAnyIsLoud)
{
  // Nothing listens on port 9: the attest fails, but the warning comes first.
  EXPECT_NE(run_cli({"cas",
                     "attest",
                     "127.0.0.1:9",
                     "--only-for-testing-trust-any",
                     "--connect-timeout",
                     "1"},
                    cas_env()),
            0);
  EXPECT_NE(err.str().find("WARNING: --only-for-testing-trust-any"), std::string::npos);
}

TEST_F(CasCliTest, ShowKeyHashCreatesTheIdentityOnceAndPrintsItsHash)
{
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0) << err.str();
  const auto first = out.str();
  EXPECT_EQ(first.size(), 51u);  // 50 characters and a newline
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0);
  EXPECT_EQ(out.str(), first);
}

TEST_F(CasCliTest, SessionCommandsNeedAnAttestedCas)
{
  EXPECT_EQ(run_cli({"session", "get", "ns/svc"}, cas_env()), 2);
  EXPECT_NE(err.str().find("sconectl cas attest"), std::string::npos) << err.str();
  EXPECT_EQ(run_cli({"session", "history", "ns", "--cas", "127.0.0.1:9"}, cas_env()), 2);
  EXPECT_NE(err.str().find("not attested"), std::string::npos) << err.str();
}

TEST_F(CasCliTest, UnsupportedCasModesAreRefusedBeforeAnythingIsGenerated)
{
  EXPECT_EQ(apply_mesh("    mode: EncryptedManifest\n"), 2);
  EXPECT_NE(err.str().find("supported modes: Upload, NoUpload"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_EQ(run_cli({"diff", "-f", (dir.path() / "mesh.yaml").string(), "-t", target}, cas_env()),
            2);
  EXPECT_NE(err.str().find("supported modes: Upload, NoUpload"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(CasCliTest, UploadToACasThatIsNeitherPinnedNorAttestedFailsBeforeGenerating)
{
  EXPECT_EQ(apply_mesh(""), 2);
  EXPECT_NE(err.str().find("is not attested: run `sconectl cas attest 127.0.0.1:9"),
            std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("uploading the policies: "), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(target));
  // diff and verify upload nothing, and their errors say what they were doing.
  const auto mesh = (dir.path() / "mesh.yaml").string();
  EXPECT_EQ(run_cli({"diff", "-f", mesh, "-t", target}, cas_env()), 2);
  EXPECT_NE(err.str().find("comparing with the CAS: the CAS at 127.0.0.1:9 is not attested"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(err.str().find("uploading"), std::string::npos) << err.str();
  EXPECT_EQ(run_cli({"verify", "-f", mesh, "-t", target}, cas_env()), 2);
  EXPECT_NE(err.str().find("verifying against the CAS: the CAS at 127.0.0.1:9 is not attested"),
            std::string::npos)
      << err.str();
  EXPECT_FALSE(std::filesystem::exists(target));
}

// The whole upload path of `apply -f mesh.yaml` (identity, pin, generation, upload order, the
// record of accepted hashes) with only the network replaced: the transport answers from an
// in-memory CAS that hashes and chains sessions as docs/cas.md says.
TEST_F(CasCliTest, ApplyUploadsThePoliciesAndAReapplyUploadsNothing)
{
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0) << err.str();
  sconectl::testing::InMemoryCas cas_server;
  cas_server.requester = out.str().substr(0, out.str().find('\n'));
  std::vector<std::string> dialled;
  cas_transport =
      [&](cas::CurlTransportOptions options) -> Result<std::unique_ptr<cas::HttpTransport>> {
    dialled.push_back(options.address.authority() + " pinned to " + options.trust.cas_key);
    return std::make_unique<sconectl::testing::BorrowedTransport>(cas_server);
  };
  const auto service = dir.write("service.yaml", R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: API_PASSWORD
      value: "$$SCONE::pw$$"
  global:
    - name: API_USER
secrets:
  global:
    - name: pw
      kind: ascii
      size: 12
build:
  name: api
  kind: python
  to: registry.example.com/api:1
  command: python3 api.py
)");
  sconectl::testing::record_service(service, dir.path() / "target");
  const std::string pin = "3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh";

  ASSERT_EQ(apply_mesh("    cas_key: " + pin + "\n"), 0) << err.str();
  // Two sessions, so two connections (uploads run concurrently), each pinned.
  EXPECT_EQ(dialled, std::vector<std::string>(2, "127.0.0.1:9 pinned to " + pin));
  ASSERT_EQ(cas_server.versions.count("demo"), 1u);
  ASSERT_EQ(cas_server.versions.count("demo/api"), 1u);
  const auto& stored = cas_server.versions.at("demo/api").back();
  EXPECT_NE(stored.session.find("someone"), std::string::npos) << stored.session;
  EXPECT_NE(out.str().find("demo/api: created " + stored.hash), std::string::npos) << out.str();
  const auto record =
      sconectl::testing::read_file(std::filesystem::path(target) / "cas" / "sessions.json");
  EXPECT_NE(record.find(stored.hash), std::string::npos) << record;
  const int posts = cas_server.posts;

  ASSERT_EQ(apply_mesh("    cas_key: " + pin + "\n"), 0) << err.str();
  EXPECT_EQ(cas_server.posts, posts) << "an unchanged mesh must not be uploaded again";
  EXPECT_NE(out.str().find("demo/api: unchanged " + stored.hash), std::string::npos) << out.str();

  // Without --cas, session commands use the CAS (and pin) that this target directory's apply used.
  dialled.clear();
  ASSERT_EQ(run_cli({"session", "get", "demo/api", "-t", target}, cas_env()), 0) << err.str();
  EXPECT_EQ(dialled, std::vector<std::string>{"127.0.0.1:9 pinned to " + pin});
  EXPECT_EQ(out.str(), stored.session);
  EXPECT_NE(err.str().find("Using the CAS at 127.0.0.1:9 recorded in"), std::string::npos)
      << err.str();
}

// `diff` and reviewed plans through the CLI, with only the network replaced: exit codes, the text
// and JSON forms, the consent a password roll needs in production mode, and `apply --plan`.
TEST_F(CasCliTest, DiffShowsWhatApplyWouldChangeAndApplyPlanUploadsExactlyThat)
{
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0) << err.str();
  sconectl::testing::InMemoryCas cas_server;
  cas_server.requester = out.str().substr(0, out.str().find('\n'));
  cas_transport = [&](cas::CurlTransportOptions) -> Result<std::unique_ptr<cas::HttpTransport>> {
    return std::make_unique<sconectl::testing::BorrowedTransport>(cas_server);
  };
  const auto record = [&](int size) {
    const auto service = dir.write("service.yaml",
                                   "apiVersion: scone/5.8\nkind: genservice\nenvironment:\n"
                                   "  local:\n    - name: API_PASSWORD\n"
                                   "      value: \"$$SCONE::pw$$\"\n"
                                   "  global:\n    - name: API_USER\nsecrets:\n  global:\n"
                                   "    - name: pw\n      kind: ascii\n      size: "
                                       + std::to_string(size)
                                       + "\nbuild:\n  name: api\n  kind: python\n"
                                         "  to: registry.example.com/api:1\n"
                                         "  command: python3 api.py\n");
    sconectl::testing::record_service(service, dir.path() / "target");
  };
  record(12);
  const std::string pin = "3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh";
  ASSERT_EQ(apply_mesh("    cas_key: " + pin + "\n"), 0) << err.str();
  const auto mesh = (dir.path() / "mesh.yaml").string();
  const auto plan = (dir.path() / "plan.json").string();

  ASSERT_EQ(run_cli({"diff", "-f", mesh, "-t", target}, cas_env()), 0) << err.str();
  EXPECT_NE(out.str().find("demo/api: unchanged"), std::string::npos) << out.str();

  record(13);
  const int posts = cas_server.posts;
  ASSERT_EQ(run_cli({"diff", "-f", mesh, "-t", target, "--out", plan}, cas_env()), 3) << err.str();
  EXPECT_NE(out.str().find("demo/api: updated"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("[secret-regenerated]"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find('\033'), std::string::npos) << "no colour when not on a terminal";
  EXPECT_EQ(std::filesystem::status(plan).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_EQ(run_cli({"--format", "json", "diff", "-f", mesh, "-t", target}, cas_env()), 3);
  const auto json = nlohmann::json::parse(out.str());
  EXPECT_EQ(json["changed"], true);
  EXPECT_EQ(json["summary"]["destructive"], true);
  EXPECT_EQ(cas_server.posts, posts) << "diff uploads nothing";

  // Production mode: the password roll needs its flag, named in the error; nothing is uploaded.
  EXPECT_EQ(run_cli({"apply", "-f", mesh, "-t", target, "--plan", plan}, cas_env()), 2);
  EXPECT_NE(err.str().find("--allow-secret-regeneration"), std::string::npos) << err.str();
  EXPECT_EQ(cas_server.posts, posts);
  const int batch_reads = cas_server.batch_reads;
  const int gets = cas_server.gets;
  ASSERT_EQ(
      run_cli({"apply", "-f", mesh, "-t", target, "--plan", plan, "--allow-secret-regeneration"},
              cas_env()),
      0)
      << err.str();
  // The upload starts from the versions the plan read: one batch read, one GET (the update's
  // old version, for its changes), none again.
  EXPECT_EQ(cas_server.batch_reads, batch_reads + 1);
  EXPECT_EQ(cas_server.gets, gets + 1);
  const auto planned = nlohmann::json::parse(sconectl::testing::read_file(plan));
  EXPECT_EQ(cas_server.versions.at("demo/api").back().hash,
            planned["uploads"][0]["planned_hash"].get<std::string>());
  // The same plan again: the CAS no longer holds its predecessor.
  EXPECT_EQ(
      run_cli({"apply", "-f", mesh, "-t", target, "--plan", plan, "--allow-secret-regeneration"},
              cas_env()),
      1);
  EXPECT_NE(err.str().find("demo/api"), std::string::npos) << err.str();
  EXPECT_EQ(cas_server.posts, posts + 1);
  ASSERT_EQ(run_cli({"diff", "-f", mesh, "-t", target}, cas_env()), 0) << out.str();
}

TEST_F(CasCliTest, SessionCheckRefusesUnknownKeysAndNotesWhatTheLocalCasRefuses)
{
  const std::string mrenclave(64, 'a');
  const auto typo = dir.write("typo.yaml",
                              "version: 0.3.10\nname: x\nservices:\n  - name: a\n    command: [x]\n"
                              "    pwd: /\n    enviroment: {A: b}\n    attestation: {mrenclave: ["
                                  + mrenclave + "]}\n");
  EXPECT_EQ(run_cli({"session", "check", "-f", typo.string()}, cas_env()), 2);
  EXPECT_NE(err.str().find(typo.string()
                           + ":7:5: services[0].enviroment: not a key of session language 0.3"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(out.str(), "");
  const auto volumes =
      dir.write("volumes.yaml", "version: 0.3.10\nname: x\nvolumes:\n  - name: v\n");
  EXPECT_EQ(run_cli({"session", "check", "-f", volumes.string()}, cas_env()), 0) << err.str();
  EXPECT_NE(err.str().find(volumes.string()
                           + ":3:1: note (for the local CAS, sconectl cas serve): volumes: not "
                             "supported"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(out.str().size(), 65U);  // the hash and a newline
}

// A config fragment where SCONE allows one but the local CAS cannot use it: a note at its place,
// never a type error.
TEST_F(CasCliTest, SessionCheckNotesAConfigFragmentInPlaceOfASection)
{
  const auto file = dir.write("fragment.yaml",
                              "version: 0.3.10\nname: x\nservices:\n  - name: a\n"
                              "    environment: $$SCONE::env$$\n"
                              "    attestation: {mrenclave: ["
                                  + std::string(64, 'a')
                                  + "]}\nsecrets:\n  - name: env\n    kind: config-fragment\n"
                                    "    value: {A: b}\n");
  ASSERT_EQ(run_cli({"session", "check", "-f", file.string()}, cas_env()), 0) << err.str();
  EXPECT_NE(err.str().find(file.string()
                           + ":5:5: note (for the local CAS, sconectl cas serve): "
                             "services[0].environment: not supported by this CAS: a config "
                             "fragment in place of this section"),
            std::string::npos)
      << err.str();
  EXPECT_EQ(err.str().find("expected a mapping"), std::string::npos) << err.str();
}

// Scontain's scripts write `scone session create -e NS=$NS session.yml` and `scone session read`.
TEST_F(CasCliTest, SessionCommandsTakeTheFileAndTheReadCommandAsSconeDoes)
{
  const auto file = dir.write("session.yml", "name: $NS\nversion: \"0.2\"\n");
  ASSERT_EQ(run_cli({"session", "check", "-f", file.string(), "-e", "NS=ns"}, cas_env()), 0)
      << err.str();
  const auto with_flag = out.str();
  EXPECT_EQ(with_flag.size(), 65U);  // the hash and a newline
  ASSERT_EQ(run_cli({"session", "check", "-e", "NS=ns", file.string()}, cas_env()), 0) << err.str();
  EXPECT_EQ(out.str(), with_flag);
  EXPECT_EQ(run_cli({"session", "read", "--help"}), 0);
  EXPECT_NE(out.str().find("Usage: sconectl session get [OPTIONS] name"), std::string::npos)
      << out.str();
}

TEST_F(CasCliTest, SessionErrorsNameFileLineAndColumn)
{
  const auto file = dir.write("bad.yaml",
                              "version: 0.3.10\n"
                              "name: x\n"
                              "services:\n"
                              "  - name: a\n"
                              "    command: [x]\n"
                              "    pwd: [/app]\n"
                              "    environment:\n"
                              "      A: 1\n"
                              "    attestation: {mrenclave: [short]}\n");
  EXPECT_EQ(run_cli({"session", "check", "-f", file.string()}, cas_env()), 2);
  for (const auto& expected :
       {file.string() + ":6:5: services[0].pwd: expected a string",
        file.string() + ":8:7: services[0].environment.A: expected a string",
        file.string() + ":9:19: services[0].attestation.mrenclave: expected 64 hex digits"}) {
    EXPECT_NE(err.str().find(expected), std::string::npos) << expected << " in\n" << err.str();
  }
  EXPECT_EQ(out.str(), "");
}

// The problems a CAS names when it refuses a session are shown where `session check` shows its
// own: at FILE:LINE:COLUMN of the field each names.
TEST_F(CasCliTest, SessionCreateAndUpdateShowARefusalsProblemsAtTheirPlaces)
{
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0) << err.str();
  sconectl::testing::InMemoryCas cas_server;
  cas_server.requester = out.str().substr(0, out.str().find('\n'));
  cas_transport = [&](cas::CurlTransportOptions) -> Result<std::unique_ptr<cas::HttpTransport>> {
    return std::make_unique<sconectl::testing::BorrowedTransport>(cas_server);
  };
  const std::vector<std::string> cas_options{
      "--cas", "127.0.0.1:9", "--cas-key", "3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh"};
  const auto write = [&](const char* command, const std::filesystem::path& file) {
    std::vector<std::string> args{"session", command, "-f", file.string()};
    args.insert(args.end(), cas_options.begin(), cas_options.end());
    return run_cli(args, cas_env());
  };
  const auto file = dir.write("session.yaml",
                              "version: 0.3.10\n"
                              "name: x\n"
                              "volumes:\n"
                              "  - name: v\n"
                              "images:\n"
                              "  - name: i\n"
                              "    volumes:\n"
                              "      - name: v\n"
                              "        path: /data\n");
  // As the local CAS words them: its own checks, then the session check's, prefixed with the
  // session, and one that names no field.
  cas_server.refuse = {"x"};
  cas_server.refusal = {
      "volumes: not supported by this CAS: the SCONE file-system shield is not part of the "
      "simulation runtime",
      "session 'x': images[0].volumes[0].path: an example",
      "namespace_hash is set, but the session has no namespace"};
  EXPECT_EQ(write("create", file), 1);
  const auto expected = {
      file.string() + ":3:1: volumes: not supported by this CAS: the SCONE file-system shield",
      file.string() + ":9:9: images[0].volumes[0].path: an example",
      file.string() + ": namespace_hash is set, but the session has no namespace",
      std::string("sconectl: error: uploading session 'x': HTTP 400: session 'x' is not valid\n")};
  for (const auto& line : expected) {
    EXPECT_NE(err.str().find(line), std::string::npos) << line << " in\n" << err.str();
  }
  EXPECT_EQ(out.str(), "");

  // An update refused the same way.
  cas_server.refuse.clear();
  const auto plain = dir.write("plain.yaml", "version: 0.3.10\nname: x\n");
  ASSERT_EQ(write("create", plain), 0) << err.str();
  cas_server.refuse = {"x"};
  cas_server.refusal = {"session 'x': volumes: not supported by this CAS"};
  EXPECT_EQ(write("update", file), 1);
  EXPECT_NE(err.str().find(file.string() + ":3:1: volumes: not supported by this CAS"),
            std::string::npos)
      << err.str();
}

// Scontain's exercises: `scone session read NS > session_read.yml`, then `scone session verify
// session_read.yml` prints the hash the CAS gave that version.
TEST_F(CasCliTest, SessionVerifyPrintsTheHashOfASessionAsReadFromTheCas)
{
  ASSERT_EQ(run_cli({"self", "show-key-hash"}, cas_env()), 0) << err.str();
  sconectl::testing::InMemoryCas cas_server;
  cas_server.requester = out.str().substr(0, out.str().find('\n'));
  cas_transport = [&](cas::CurlTransportOptions) -> Result<std::unique_ptr<cas::HttpTransport>> {
    return std::make_unique<sconectl::testing::BorrowedTransport>(cas_server);
  };
  const std::vector<std::string> cas_options{
      "--cas", "127.0.0.1:9", "--cas-key", "3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh"};
  const auto with_cas = [&](std::vector<std::string> args) {
    args.insert(args.end(), cas_options.begin(), cas_options.end());
    return run_cli(args, cas_env());
  };
  const auto file = dir.write("session.yml", "name: $NS\nversion: \"0.3\"\n");
  ASSERT_EQ(run_cli({"session", "check", "-e", "NS=ns", file.string()}, cas_env()), 0) << err.str();
  const auto checked = out.str();
  ASSERT_EQ(with_cas({"session", "create", "-e", "NS=ns", "-f", file.string()}), 0) << err.str();
  const auto created = out.str();
  ASSERT_EQ(with_cas({"session", "update", "-e", "NS=ns", "-f", file.string()}), 0) << err.str();
  const auto updated = out.str();
  ASSERT_NE(updated, created);

  // What `session read` printed: the stored YAML, with creator and predecessor.
  ASSERT_EQ(with_cas({"session", "read", "ns"}), 0) << err.str();
  const auto read = dir.write("session_read.yml", out.str());
  ASSERT_EQ(run_cli({"session", "verify", read.string()}, cas_env()), 0) << err.str();
  EXPECT_EQ(out.str(), updated);
  // A hand-written file names no creator: this client's, as `session check` takes it.
  ASSERT_EQ(run_cli({"session", "verify", "-e", "NS=ns", file.string()}, cas_env()), 0)
      << err.str();
  EXPECT_EQ(out.str(), checked);
  EXPECT_EQ(out.str(), created);

  // Another creator, as a session another client created reads back: its hash, not ours.
  auto document = model::parse_session_yaml(sconectl::testing::read_file(read));
  ASSERT_TRUE(document);
  (*document)["creator"] = "someone-else";
  const auto foreign = dir.write("foreign.yml", model::to_yaml(*document));
  ASSERT_EQ(run_cli({"session", "verify", "-f", foreign.string()}, cas_env()), 0) << err.str();
  EXPECT_EQ(out.str(), model::session_hash(*document) + "\n");
}

// `scone cas show-certificate > cas_cert.crt`, then `curl --cacert cas_cert.crt`.
TEST_F(CasCliTest, CasShowCertificatePrintsTheChainAnAttestedCasPresented)
{
  const std::string chain = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
  const auto config_file = dir.path() / "cas" / "config.json";
  cas::ClientConfig config;
  config.default_cas = "127.0.0.1:9";
  config.cas_db["127.0.0.1:9"] = cas::AttestedCas{.url = "https://127.0.0.1:9/",
                                                  .chain = chain,
                                                  .cas_key = "key",
                                                  .trust = cas::TrustMode::pinned_key};
  config.cas_db["cas.example:8081"] =
      cas::AttestedCas{.url = "https://cas.example:8081/", .chain = "other\n", .cas_key = "k2"};
  ASSERT_TRUE(cas::save_client_config(config_file, config));

  ASSERT_EQ(run_cli({"cas", "show-certificate"}, cas_env()), 0) << err.str();
  EXPECT_EQ(out.str(), chain);
  ASSERT_EQ(run_cli({"cas", "show-certificate", "cas.example"}, cas_env()), 0) << err.str();
  EXPECT_EQ(out.str(), "other\n");
  EXPECT_EQ(run_cli({"cas", "show-certificate", "127.0.0.1:10"}, cas_env()), 2);
  EXPECT_NE(err.str().find("the CAS at 127.0.0.1:10 is not attested"), std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("sconectl cas attest 127.0.0.1:10"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
}

TEST_F(CasCliTest, WithoutACasTheErrorNamesAllThreeWaysToGiveOne)
{
  EXPECT_EQ(
      run_cli({"session", "history", "demo/api", "-t", (dir.path() / "no-such-target").string()},
              cas_env()),
      2);
  EXPECT_NE(err.str().find("pass --cas"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("no-such-target/cas/sessions.json does not exist"), std::string::npos)
      << err.str();
  EXPECT_NE(err.str().find("sconectl cas attest"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace sconectl::cli
