#include "manifest_text.hpp"
#include "sconectl/manifest/load.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sconectl::manifest {
namespace {

using sconectl::testing::formatted;
using sconectl::testing::TempDir;
using sconectl::testing::variables;

// A valid Base58Check key hash (version byte 1, SHA-256 of "x").
constexpr const char* k_cas_key = "3Hkve6rTdWCmTC6UGzDKK8MmCo5NtX78nunoDqGdagdmRyM2dm";

std::string mesh_text(const std::string& services_and_env)
{
  return std::string(R"(apiVersion: scone/5.8
kind: mesh
cas:
  - name: cas
    alias: ["image", "security", "access", "attestation"]
    cas_url: cas.scone-system:8081
    cas_key: )")
         + k_cas_key + R"(
    mode: Upload
policy:
  namespace: demo-1
  tolerate: "outdated-tcb, hyperthreading"
  ignore_advisories: "INTEL-SA-00615, INTEL-SA-00657"
)" + services_and_env;
}

LoadReport parse_in(const TempDir& dir, const std::string& text)
{
  return parse_manifest(text,
                        "mesh.yaml",
                        dir.path(),
                        LoadOptions{.variables = variables({{"REPO", "127.0.0.1:5000/demo"}})});
}

TEST(MeshManifestTest, ReadsServicesEnvironmentAndImageSecrets)
{
  TempDir dir;
  dir.write("secrets.yaml", R"(- name: password
  kind: ascii
  size: 10
  export:
    - namespace: {{namespace}}
)");
  const auto report = parse_in(dir, mesh_text(R"(env:
  - service: global
    env:
      - name: API_USER
        value: myself
      - name: APP_SERVICE_PORT
        value: 443
  - service: helm
    env:
      - name: imagePullSecrets
        value: sconeapps
  - service: hello
    env:
      - name: API_USER
        value: special
services:
  - name: hello
    image: $REPO/hello:1
    image_secrets: secrets.yaml
    helm_extra_values:
      resources:
        limits:
          sgx.k8s.io/sgx: 2
  - image: $REPO/redis:7
helm_extra_values: "replicaCount: 2"
)"));
  ASSERT_EQ(formatted(report), "");
  const auto& mesh = std::get<MeshManifest>(*report.document);
  ASSERT_EQ(mesh.cas.size(), 1U);
  EXPECT_EQ(mesh.cas[0].mode, PolicyHandling::upload);
  EXPECT_EQ(mesh.cas[0].cas_url, "cas.scone-system:8081");
  EXPECT_EQ(mesh.policy.tolerate, (std::vector<std::string>{"outdated-tcb", "hyperthreading"}));
  EXPECT_EQ(mesh.policy.ignore_advisories,
            (std::vector<std::string>{"INTEL-SA-00615", "INTEL-SA-00657"}));
  ASSERT_EQ(mesh.environment.size(), 3U);
  EXPECT_EQ(mesh.environment[0].variables[1].value, "443");
  ASSERT_EQ(mesh.services.size(), 2U);
  EXPECT_EQ(mesh.services[0].image, "127.0.0.1:5000/demo/hello:1");
  ASSERT_EQ(mesh.services[0].image_secret_definitions.size(), 1U);
  EXPECT_EQ(mesh.services[0].image_secret_definitions[0].exports[0].namespace_name, "demo-1");
  EXPECT_EQ(mesh.services[0].helm_extra_values["resources"]["limits"]["sgx.k8s.io/sgx"], 2);
  EXPECT_EQ(mesh.services[1].name, "redis");
  EXPECT_TRUE(mesh.services[1].name_derived_from_image);
  EXPECT_EQ(mesh.helm_extra_values["replicaCount"], 2);
}

// As for service manifests: a block scalar's final line break is not part of a token field (a
// CAS address, a key hash, a namespace, an image) but stays in an environment value.
TEST(MeshManifestTest, BlockScalarsAreReadAsTheirFieldExpects)
{
  TempDir dir;
  for (const std::string style : {"|", ">-", "|+"}) {
    const auto text = "apiVersion: scone/5.8\nkind: mesh\ncas:\n  - name: cas\n    cas_url: "
                      + style + "\n      cas.scone-system:8081\n    cas_key: " + style + "\n      "
                      + k_cas_key + "\npolicy:\n  namespace: " + style
                      + "\n    demo-1\n  tolerate: " + style
                      + "\n    outdated-tcb, hyperthreading\nenv:\n  - service: global\n    env:\n"
                        "      - name: API_USER\n        value: "
                      + style + "\n          myself\nservices:\n  - name: api\n    image: " + style
                      + "\n      registry.example.com/api:1\n";
    const auto report = parse_in(dir, text);
    ASSERT_EQ(formatted(report), "") << style << "\n" << text;
    const auto& mesh = std::get<MeshManifest>(*report.document);
    EXPECT_EQ(mesh.cas[0].cas_url, "cas.scone-system:8081");
    EXPECT_EQ(mesh.cas[0].cas_key, k_cas_key);
    EXPECT_EQ(mesh.policy.namespace_name, "demo-1");
    EXPECT_EQ(mesh.policy.tolerate, (std::vector<std::string>{"outdated-tcb", "hyperthreading"}));
    EXPECT_EQ(mesh.environment[0].variables[0].value, style == ">-" ? "myself" : "myself\n");
  }
}

TEST(MeshManifestTest, ReadsTheLegacyFlatEnvironment)
{
  TempDir dir;
  const auto report = parse_in(dir, mesh_text(R"(env:
  - name: API_USER
    value: myself
services:
  - name: hello
    image: registry.example.com/hello:1
)"));
  ASSERT_EQ(formatted(report), "");
  const auto& mesh = std::get<MeshManifest>(*report.document);
  ASSERT_EQ(mesh.environment.size(), 1U);
  EXPECT_EQ(mesh.environment[0].service, "global");
  EXPECT_EQ(mesh.environment[0].variables[0].name, "API_USER");
}

TEST(MeshManifestTest, ReportsReferencesToUnknownServicesAndDuplicates)
{
  TempDir dir;
  const auto report = parse_in(dir, mesh_text(R"(env:
  - service: helo
    env:
      - name: A
        value: "1"
      - name: A
        value: "2"
services:
  - name: hello
    image: registry.example.com/hello:1
  - name: hello
    image: registry.example.com/other:1
)"));
  EXPECT_EQ(formatted(report),
            "mesh.yaml:14:14: env[0].service: 'helo' is neither global, helm nor a service of "
            "this mesh (did you mean 'hello'?)\n"
            "mesh.yaml:18:15: env[0].env[1].name: variable 'A' is set twice for 'helo' (first at "
            "line 16)\n"
            "mesh.yaml:23:11: services[1].name: duplicate service 'hello' (first defined at line "
            "21)\n");
}

TEST(MeshManifestTest, ChecksCasKeysTolerationsAndAdvisories)
{
  TempDir dir;
  const auto report = parse_in(dir, R"(apiVersion: scone/5.8
kind: mesh
cas:
  - name: main
    cas_url: https://cas
    cas_key: 46YyxrywJ8notavalidkey
    cas_encryption_key: abc
    mode: Uplaod
policy:
  namespace: "bad namespace"
  tolerate: "outdated-tcb, hyperthreadin"
  ignore_advisories: "*, INTEL-SA-00615"
env: []
services:
  - image: registry.example.com/hello:1
)");
  EXPECT_EQ(formatted(report),
            "mesh.yaml:4:5: cas: no CAS instance is named 'cas' or has the alias 'cas'\n"
            "mesh.yaml:5:14: cas[0].cas_url: 'https://cas' is not a valid CAS address; expected a "
            "host name or address with an optional :port, like cas.scone-system or "
            "127.0.0.1:8081\n"
            "mesh.yaml:6:14: cas[0].cas_key: expected a 50-character Base58Check key hash (as "
            "printed by 'sconectl cas serve' or 'kubectl provision cas --print-public-keys')\n"
            "mesh.yaml:7:25: cas[0].cas_encryption_key: expected 64 hex digits\n"
            "mesh.yaml:8:11: cas[0].mode: unknown policy handling mode 'Uplaod' (did you mean "
            "'Upload'?); expected one of: Upload, SignedManifest, EncryptedManifest, NoUpload, "
            "EncryptedOnly, SignOnline\n"
            "mesh.yaml:10:14: policy.namespace: 'bad namespace' is not a valid CAS namespace; "
            "expected '/'-separated segments of 1 to 128 of the characters A-Z a-z 0-9 _ - . ~\n"
            "mesh.yaml:11:13: policy.tolerate: unknown toleration 'hyperthreadin' (did you mean "
            "'hyperthreading'?); expected one of: debug-mode, hyperthreading, insecure-igpu, "
            "software-hardening-needed, aepic-leak, insecure-configuration, outdated-tcb, "
            "maa-managed-tcb, local-attestation-trust-cas-tcb, simulation\n"
            "mesh.yaml:12:22: policy.ignore_advisories: '*' ignores every advisory and cannot be "
            "combined with advisory IDs\n");
}

TEST(MeshManifestTest, RequiresCasServicesAndANamespace)
{
  TempDir dir;
  const auto report = parse_in(dir, R"(apiVersion: scone/5.8
kind: mesh
cas: []
policy:
  namespace: ""
env: []
services: []
)");
  EXPECT_EQ(formatted(report),
            "mesh.yaml:3:6: cas: at least one CAS instance is needed\n"
            "mesh.yaml:5:14: policy.namespace: must not be empty\n"
            "mesh.yaml:7:11: services: a mesh needs at least one service\n");
}

TEST(MeshManifestTest, ExpandsVariablesInHelmValuesTextPerValue)
{
  TempDir dir;
  const auto report = parse_in(dir, mesh_text(R"(env: []
services:
  - image: registry.example.com/hello:1
helm_extra_values: |
  literal: "$$HOME"
  image: "$REPO/x"
)"));
  ASSERT_EQ(formatted(report), "");
  const auto& mesh = std::get<MeshManifest>(*report.document);
  EXPECT_EQ(mesh.helm_extra_values["literal"], "$HOME");
  EXPECT_EQ(mesh.helm_extra_values["image"], "127.0.0.1:5000/demo/x");
  EXPECT_EQ(report.variables.size(), 1U);
}

TEST(MeshManifestTest, ReportsProblemsInImageSecretsFilesUnderTheirOwnName)
{
  TempDir dir;
  dir.write("secrets.yaml", "- name: pw\n  kind: asci\n");
  const auto report = parse_in(dir, mesh_text(R"(env: []
services:
  - name: hello
    image: registry.example.com/hello:1
    image_secrets: secrets.yaml
  - name: other
    image: registry.example.com/other:1
    image_secrets: ../outside.yaml
)"));
  EXPECT_EQ(formatted(report),
            "mesh.yaml:20:20: services[1].image_secrets: '../outside.yaml' must be a relative path "
            "inside the manifest's directory\n"
            "secrets.yaml:2:9: [0].kind: unknown secret kind 'asci' (did you mean 'ascii'?); "
            "expected one of: ascii, binary, private-key, public-key, x509, x509-ca, aad-token, "
            "pgp-key\n");
}

TEST(MeshManifestTest, ASecondDocumentIsAnErrorAtItsLine)
{
  TempDir dir;
  const auto first = mesh_text("env: []\nservices:\n  - image: registry.example.com/hello:1\n");
  const auto line = std::count(first.begin(), first.end(), '\n') + 1;
  const auto report = parse_in(dir, first + "---\nkind: mesh\n");
  EXPECT_EQ(formatted(report),
            "mesh.yaml:" + std::to_string(line)
                + ":1: more than one YAML document: a second one starts here (after ---); a "
                  "file holds exactly one\n");
  const auto marked = parse_in(dir, "---\n" + first + "...\n");
  EXPECT_EQ(formatted(marked), "");
}

// Aliases that would repeat 100 KB thousands of times are refused before anything is expanded.
TEST(MeshManifestTest, RefusesAliasesThatExpandBeyondTheByteLimit)
{
  TempDir dir;
  std::string env = "env:\n  - service: global\n    env:\n      - name: E0\n        value: &big \""
                    + std::string(100 * 1000, 'x') + "\"\n";
  for (int i = 1; i < 2000; ++i) {
    env += "      - name: E" + std::to_string(i) + "\n        value: *big\n";
  }
  const auto text = mesh_text(env + "services:\n  - image: registry.example.com/hello:1\n");
  const auto report = parse_in(dir, text);
  const auto message = formatted(report);
  EXPECT_NE(message.find("mesh.yaml:"), std::string::npos) << message.substr(0, 300);
  EXPECT_NE(message.find("the limit on expanded YAML bytes is 16 times the document's size"),
            std::string::npos)
      << message.substr(0, 300);
  EXPECT_LT(message.size(), 1000U);
}

// An alias inside its own anchor makes an endless structure; converting it to JSON used to
// recurse until the stack overflowed.
TEST(MeshManifestTest, ReportsAnAliasInsideItsOwnAnchorInHelmValues)
{
  TempDir dir;
  const auto report = parse_in(dir, mesh_text(R"(env: []
services:
  - image: registry.example.com/hello:1
helm_extra_values: {a: &r [*r]}
)"));
  EXPECT_EQ(formatted(report),
            "mesh.yaml:16:24: helm_extra_values.a: a YAML alias (*name) is used inside the value "
            "of its own anchor (&name), which would repeat without end\n");
}

TEST(MeshManifestTest, ReportsAnAliasInsideItsOwnAnchorInHelmValuesText)
{
  TempDir dir;
  const auto report = parse_in(dir, mesh_text(R"(env: []
services:
  - image: registry.example.com/hello:1
    helm_extra_values: "x: &r {<<: *r}"
)"));
  EXPECT_EQ(formatted(report),
            "mesh.yaml:16:24: services[0].helm_extra_values.x: a YAML alias (*name) is used "
            "inside the value of its own anchor (&name), which would repeat without end\n");
}

std::string nested_flow_lists(std::size_t depth)
{
  return std::string(depth, '[') + std::string(depth, ']');
}

// The libyaml check limits the nesting of the file; YAML text inside a string gets the same limit.
TEST(MeshManifestTest, LimitsTheNestingOfHelmValuesText)
{
  TempDir dir;
  for (const std::size_t depth : {201U, 2000U}) {
    const auto report = parse_in(dir,
                                 mesh_text(R"(env: []
services:
  - image: registry.example.com/hello:1
helm_extra_values: "a: )" + nested_flow_lists(depth)
                                           + "\"\n"));
    EXPECT_EQ(formatted(report),
              "mesh.yaml:16:20: helm_extra_values: nested deeper than 200 levels\n")
        << depth;
  }
  const auto report = parse_in(dir,
                               mesh_text(R"(env: []
services:
  - image: registry.example.com/hello:1
helm_extra_values: "a: )" + nested_flow_lists(199)
                                         + "\"\n"));
  EXPECT_EQ(formatted(report), "");
}

TEST(MeshManifestTest, QuotesAtMostTheStartOfAWrongValue)
{
  TempDir dir;
  const auto long_line = parse_in(dir, std::string(100, 'x') + "\n");
  EXPECT_EQ(formatted(long_line),
            "mesh.yaml:1:1: expected a mapping at the top level, got "
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\u2026'\n");
  const auto block = parse_in(dir, "--- |\n  kind: mesh\n  secrets:\n    - value: hidden\n");
  EXPECT_EQ(formatted(block),
            "mesh.yaml:1:5: expected a mapping at the top level, got a multi-line string "
            "'kind: mesh\u2026'\n");
  // Cut between characters, not inside one: 39 ASCII bytes, then a 2-byte character.
  const auto utf8 = parse_in(dir, std::string(39, 'x') + "\u00e9\u00e9\n");
  EXPECT_EQ(formatted(utf8),
            "mesh.yaml:1:1: expected a mapping at the top level, got '" + std::string(39, 'x')
                + "\u2026'\n");
}

TEST(MeshManifestTest, DoesNotQuoteWhatMayBeASecretValue)
{
  TempDir dir;
  dir.write("scalar.yaml", "s3cr3t-Value\n");
  dir.write("items.yaml", "- s3cr3t-Value\n- name: pw\n  kind: ascii\n");
  const auto report = parse_in(dir, mesh_text(R"(env: []
services:
  - name: one
    image: registry.example.com/one:1
    image_secrets: scalar.yaml
  - name: two
    image: registry.example.com/two:1
    image_secrets: items.yaml
)"));
  const auto text = formatted(report);
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
  EXPECT_EQ(text,
            "scalar.yaml:1:1: expected a list of secrets, got a string (not shown because it may "
            "be secret)\n"
            "items.yaml:1:3: [0]: expected a mapping, got a string (not shown because it may be "
            "secret)\n");
}

}  // namespace
}  // namespace sconectl::manifest
