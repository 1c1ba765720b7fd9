#include "manifest_text.hpp"
#include "sconectl/manifest/load.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

using sconectl::testing::formatted;
using sconectl::testing::k_minimal_service;
using sconectl::testing::variables;

LoadReport parse(const std::string& text,
                 std::map<std::string, std::string> env = {},
                 Strictness strictness = Strictness::lenient)
{
  return parse_manifest(
      text,
      "service.yaml",
      ".",
      LoadOptions{.strictness = strictness, .variables = variables(std::move(env))});
}

constexpr const char* k_full_service = R"(apiVersion: scone/5.8.1
kind: genservice
environment:
  local:
    - name: SCONE_HEAP
      value: 760M
    - name: API_PASSWORD
      value: "$$SCONE::password$$"
    - name: CERT
      value: "$$SCONE::server_cert:crt$$"
    - name: ALLOW
      value: 1
  global:
    - name: API_USER
    - name: GREETING
      value: Hello
secrets:
  global:
    - name: password
      kind: ascii
      size: "12"
    - name: ca_key
      kind: private-key
      key_type: P-384
      migrate: "true"
    - name: ca
      kind: x509-ca
      private_key: ca_key
      common_name: Demo CA
      export_public: true
    - name: server_key
      kind: private-key
    - name: server_cert
      kind: x509
      private_key: server_key
      issuer: ca
      dns: [hello, hello.default]
      endpoint: server
      valid_for: 90 days
      export:
        - namespace: shared
        - session: other/session
    - name: token
      kind: binary
      value: DEADBEEF
  import:
    - redis_ca
injection_files:
  - path: /etc/tls/ca.pem
    content: "$$SCONE::redis_ca:crt$$"
build:
  name: python-hello-user
  kind: python
  to: $REPO/python_hello_user:1
  from: registry.example.com/base/python:3.11
  pwd: /python
  command: python3 print_env.py
  requirements: requirements.txt
  copy:
    - print_env.py
    - lib/
  run:
    - >
      echo one
      && echo two
    - echo three
  signature:
    sign: true
    key: target/identity.pem
  binaries: [/usr/bin/python3]
  dirs: [/python]
  fs_dirs: [/usr/lib/python3]
  fs_files: [/etc/hosts]
  plains: [/var/cache]
  plain_files: [/etc/motd]
  host_paths: [/etc/ssl/certs]
  stable: registry.example.com/team/hello:stable
  volumes:
    - name: data
      path: /data
      export:
        - session: other
          update_policy: ephemeral
  gen_policy:
    policy: ./policy.yaml
)";

TEST(ServiceManifestTest, ReadsEveryDocumentedField)
{
  const auto report = parse(k_full_service, {{"REPO", "127.0.0.1:5000/demo"}});
  ASSERT_EQ(formatted(report), "");
  ASSERT_TRUE(report.ok());
  const auto& service = std::get<ServiceManifest>(*report.document);
  EXPECT_EQ(service.api_version, (ApiVersion{5, 8, 1}));
  ASSERT_EQ(service.local_environment.size(), 4U);
  EXPECT_EQ(service.local_environment[1].value, "$$SCONE::password$$");
  EXPECT_EQ(service.local_environment[3].value, "1");
  ASSERT_EQ(service.global_environment.size(), 2U);
  EXPECT_FALSE(service.global_environment[0].value);
  EXPECT_EQ(service.global_environment[1].value, "Hello");

  ASSERT_EQ(service.secrets.size(), 6U);
  EXPECT_EQ(service.secrets[0].size, 12U);
  EXPECT_EQ(service.secrets[1].key_type, KeyType::p384);
  EXPECT_EQ(service.secrets[1].migrate, true);
  EXPECT_EQ(service.secrets[2].kind, SecretKind::x509_ca);
  EXPECT_EQ(service.secrets[2].export_public, true);
  const auto& cert = service.secrets[4];
  EXPECT_EQ(cert.issuer, "ca");
  EXPECT_EQ(cert.dns, (std::vector<std::string>{"hello", "hello.default"}));
  EXPECT_EQ(cert.endpoint, CertificateEndpoint::server);
  ASSERT_EQ(cert.exports.size(), 2U);
  EXPECT_EQ(cert.exports[0].namespace_name, "shared");
  EXPECT_EQ(cert.exports[1].session, "other/session");
  EXPECT_EQ(service.secrets[5].value, "DEADBEEF");
  ASSERT_EQ(service.imported_secrets.size(), 1U);
  EXPECT_EQ(service.imported_secrets[0].name, "redis_ca");
  ASSERT_EQ(service.injection_files.size(), 1U);
  EXPECT_EQ(service.injection_files[0].path, "/etc/tls/ca.pem");

  const auto& build = service.build;
  EXPECT_EQ(build.kind, BuildKind::python);
  EXPECT_EQ(build.to, "127.0.0.1:5000/demo/python_hello_user:1");
  EXPECT_EQ(build.copy, (std::vector<std::string>{"print_env.py", "lib/"}));
  EXPECT_EQ(build.run, (std::vector<std::string>{"echo one && echo two\n", "echo three"}));
  ASSERT_TRUE(build.signature);
  EXPECT_EQ(build.signature->sign, true);
  EXPECT_EQ(build.host_paths, std::vector<std::string>{"/etc/ssl/certs"});
  ASSERT_EQ(build.volumes.size(), 1U);
  EXPECT_EQ(build.volumes[0].exports[0].update_policy, "ephemeral");
  EXPECT_EQ(build.gen_policy, "./policy.yaml");
  EXPECT_EQ(build.at.of("command").line, 57);
}

TEST(ServiceManifestTest, ReadsTheMinimalManifest)
{
  const auto report = parse(k_minimal_service);
  EXPECT_EQ(formatted(report), "");
  EXPECT_TRUE(report.ok());
}

TEST(ServiceManifestTest, ReportsEveryMissingRequiredField)
{
  const auto report = parse("apiVersion: scone/5.8\nkind: genservice\nbuild:\n  name: x\n");
  EXPECT_EQ(formatted(report),
            "service.yaml:1:1: environment: required field is missing\n"
            "service.yaml:4:3: build.kind: required field is missing\n"
            "service.yaml:4:3: build.to: required field is missing\n"
            "service.yaml:4:3: build.command: required field is missing\n");
}

TEST(ServiceManifestTest, UnknownFieldsAreWarningsUnlessStrict)
{
  std::string text = k_minimal_service;
  text += "  comand: python3 other.py\n";
  const auto lenient = parse(text);
  EXPECT_TRUE(lenient.ok());
  EXPECT_EQ(
      formatted(lenient),
      "service.yaml:12:3: build: warning: unknown field 'comand' (did you mean 'command'?)\n");
  const auto strict = parse(text, {}, Strictness::strict);
  EXPECT_FALSE(strict.ok());
  EXPECT_EQ(formatted(strict),
            "service.yaml:12:3: build: unknown field 'comand' (did you mean 'command'?)\n");
}

TEST(ServiceManifestTest, UndefinedVariablesAreOneErrorListingAllNames)
{
  std::string text = k_minimal_service;
  text += "  from: $BASE/python:$TAG\n  pwd: ${WORKDIR:-/app}\n";
  const auto report = parse(text);
  EXPECT_EQ(formatted(report),
            "service.yaml:12:9: build.from: undefined environment variables: BASE, TAG (export "
            "them, or write ${NAME:-default} in the manifest)\n");
}

TEST(ServiceManifestTest, ChecksSecretReferencesAndFormats)
{
  std::string text = k_minimal_service;
  text += R"(secrets:
  global:
    - name: password
      kind: ascii
environment:
  local:
    - name: A
      value: "$$SCONE::pasword$$"
    - name: B
      value: "$$SCONE::password:hex$$"
)";
  // The second `environment` key is a duplicate; the first one is used.
  const auto report = parse(text);
  EXPECT_EQ(formatted(report),
            "service.yaml:16:1: environment: duplicate field (first defined at line 3)\n");

  std::string references = R"(apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: A
      value: "$$SCONE::pasword$$"
    - name: B
      value: "x $$SCONE::password:hex$$"
secrets:
  global:
    - name: password
      kind: ascii
build:
  name: hello
  kind: python
  to: registry.example.com/team/hello:1
  command: python3 hello.py $$SCONE::token:base64$$
)";
  EXPECT_EQ(formatted(parse(references)),
            "service.yaml:6:14: environment.local[0].value: $$SCONE::pasword$$ refers to undefined "
            "secret 'pasword' (did you mean 'password'?)\n"
            "service.yaml:8:14: environment.local[1].value: $$SCONE::password:hex$$: format 'hex' "
            "does not apply to ascii secret 'password' (ascii secrets take no format; write "
            "$$SCONE::password$$)\n"
            "service.yaml:17:12: build.command: $$SCONE::token:base64$$ refers to undefined secret "
            "'token' (define it in secrets.global or list it in secrets.import)\n");
}

TEST(ServiceManifestTest, ChecksAttributesAgainstTheSecretKind)
{
  std::string text = k_minimal_service;
  text += R"(secrets:
  global:
    - name: pw
      kind: ascii
      issuer: ca
    - name: ca
      kind: x509-ca
      private_key: pw
      dns: [ca.example]
    - name: blob
      kind: binary
      value: xyz
)";
  EXPECT_EQ(
      formatted(parse(text)),
      "service.yaml:16:15: secrets.global[0].issuer: applies only to x509 and x509-ca secrets, "
      "not to ascii secret 'pw'\n"
      "service.yaml:19:20: secrets.global[1].private_key: 'pw' is an ascii secret; expected a "
      "private-key secret\n"
      "service.yaml:20:12: secrets.global[1].dns: applies only to x509 secrets, not to x509-ca "
      "secret 'ca'\n"
      "service.yaml:23:14: secrets.global[2].value: an explicit binary value must be an even "
      "number of hex digits\n");
}

TEST(ServiceManifestTest, ChecksKeysNeedTheirCounterparts)
{
  std::string text = k_minimal_service;
  text += R"(secrets:
  global:
    - name: pub
      kind: public-key
    - name: rsa
      kind: private-key
      value: |
        -----BEGIN RSA PRIVATE KEY-----
        MIIB
        -----END RSA PRIVATE KEY-----
)";
  EXPECT_EQ(formatted(parse(text)),
            "service.yaml:14:7: secrets.global[0].private_key: a public-key secret needs "
            "'private_key' naming the private-key secret it belongs to, or an explicit value\n"
            "service.yaml:18:14: secrets.global[1].value: an explicit private key must be "
            "PEM-encoded PKCS#8 (-----BEGIN PRIVATE KEY-----)\n");
}

TEST(ServiceManifestTest, CopyPathsMustStayInsideTheManifestDirectory)
{
  std::string text = k_minimal_service;
  text += "  copy:\n    - ../secret.txt\n    - /etc/passwd\n";
  EXPECT_EQ(formatted(parse(text)),
            "service.yaml:13:5: build.copy[0]: '../secret.txt' must be a relative path inside the "
            "manifest's directory\n"
            "service.yaml:13:5: build.copy[1]: '/etc/passwd' must be a relative path inside the "
            "manifest's directory\n");
}

TEST(ServiceManifestTest, JavaKindsCopyOnlySourcesJarsAndDirectories)
{
  sconectl::testing::TempDir dir;
  dir.write("Main.java", "class Main {}");
  dir.write("config.yaml", "a: b");
  dir.write("resources/app.properties", "a=b");
  std::string text = k_minimal_service;
  text.replace(text.find("kind: python"), 12, "kind: java21");
  text += "  copy: [Main.java, lib/dep.jar, resources, config.yaml, not-yet-there]\n";
  const auto report =
      parse_manifest(text, "service.yaml", dir.path(), LoadOptions{.variables = variables()});
  EXPECT_EQ(formatted(report),
            "service.yaml:12:9: build.copy[3]: 'config.yaml' is neither a .java source, a .jar "
            "archive nor a directory; Java kinds copy only those (put other files the program "
            "needs into a copied directory)\n");

  text.replace(text.find("kind: java21"), 12, "kind: python");
  EXPECT_EQ(formatted(parse_manifest(
                text, "service.yaml", dir.path(), LoadOptions{.variables = variables()})),
            "");
}

// Scontain's examples write values as block scalars (`value: |` then the value on its own line).
// For a field that holds one token (a name, hex, a number, a path, an image reference), the line
// break that ends the block is not part of the value; free text (environment values, file
// content) keeps it, as YAML says. Every style: literal and folded, clipped and stripped.
TEST(ServiceManifestTest, BlockScalarsAreReadAsTheirFieldExpects)
{
  for (const std::string style : {"|", "|-", ">", ">-", "|+"}) {
    const auto block = [&style](const std::string& value) {
      return style + "\n        " + value + "\n";
    };
    const std::string text = "apiVersion: scone/5.8\nkind: genservice\nenvironment:\n  local:\n"
                             "    - name: API_PASSWORD\n      value: \"$$SCONE::pw$$\"\n"
                             "    - name: TEXT\n      value: "
                             + block("kept as written")
                             + "secrets:\n  global:\n"
                               "    - name: "
                             + block("pw") + "      kind: " + block("ascii")
                             + "      size: " + block("16")
                             + "    - name: key\n      kind: binary\n      value: " + block("00ff00ff")
                             + "    - name: cert_key\n      kind: private-key\n"
                               "    - name: cert\n      kind: x509\n      private_key: "
                             + block("cert_key") + "      export_public: " + block("true")
                             + "      valid_for: " + block("90 days")
                             + "build:\n  name: " + block("api") + "  kind: " + block("python")
                             + "  to: " + block("registry.example.com/api:1")
                             + "  command: " + block("python3 api.py") + "  pwd: " + block("/app");
    const auto report = parse(text);
    ASSERT_EQ(formatted(report), "") << style << "\n" << text;
    const auto& service = std::get<ServiceManifest>(*report.document);
    EXPECT_EQ(service.build.name, "api") << style;
    EXPECT_EQ(service.build.to, "registry.example.com/api:1") << style;
    EXPECT_EQ(service.build.command, "python3 api.py") << style;
    EXPECT_EQ(service.build.pwd, "/app") << style;
    ASSERT_EQ(service.secrets.size(), 4U);
    EXPECT_EQ(service.secrets[0].name, "pw") << style;
    EXPECT_EQ(service.secrets[0].size, 16U) << style;
    EXPECT_EQ(service.secrets[3].private_key, "cert_key") << style;
    EXPECT_EQ(service.secrets[3].export_public, true) << style;
    EXPECT_EQ(service.secrets[3].valid_for, "90 days") << style;
    const std::string written =
        style == "|+" || style == "|" || style == ">" ? "kept as written\n" : "kept as written";
    EXPECT_EQ(service.local_environment[1].value, written) << style;
  }
}

TEST(ServiceManifestTest, EmptyValuesAreKeptAndEmptyOptionalFieldsAreNotGiven)
{
  const auto report = parse(
      "apiVersion: scone/5.8\nkind: genservice\nenvironment:\n  local:\n"
      "    - name: EMPTY\n      value: \"\"\n    - name: UNSET\n      value:\n"
      "secrets:\n  global:\n    - name: pw\n      kind: ascii\n      size: \"\"\n"
      "injection_files:\n  - path: /run/app/a.conf\n    content: \"\"\n"
      "build:\n  name: api\n  kind: python\n  to: registry.example.com/api:1\n"
      "  command: python3 api.py\n  pwd: \"\"\n");
  ASSERT_EQ(formatted(report), "");
  const auto& service = std::get<ServiceManifest>(*report.document);
  ASSERT_EQ(service.local_environment.size(), 2U);
  EXPECT_EQ(service.local_environment[0].value, "");
  EXPECT_EQ(service.local_environment[1].value, "");
  ASSERT_EQ(service.injection_files.size(), 1U);
  EXPECT_EQ(service.injection_files[0].content, "");
  EXPECT_FALSE(service.secrets[0].size.has_value());
  // A missing value is still an error: the variable would silently get none.
  const auto missing = parse(
      "apiVersion: scone/5.8\nkind: genservice\nenvironment:\n  local:\n    - name: A\n"
      "build:\n  name: api\n  kind: python\n  to: registry.example.com/api:1\n"
      "  command: python3 api.py\n");
  EXPECT_NE(formatted(missing).find("environment.local[0].value: required field is missing"),
            std::string::npos)
      << formatted(missing);
}

TEST(ServiceManifestTest, ExplicitSecretValuesNeverAppearInMessages)
{
  std::string text = k_minimal_service;
  text += R"(secrets:
  global:
    - name: blob
      kind: binary
      value: not-hex-TOPSECRET
    - name: key
      kind: private-key
      value: TOPSECRET-not-pem
)";
  const auto messages = formatted(parse(text));
  EXPECT_NE(messages, "");
  EXPECT_EQ(messages.find("TOPSECRET"), std::string::npos) << messages;
}

TEST(ServiceManifestTest, RejectsAnOldApiVersionAndUnknownKinds)
{
  EXPECT_EQ(formatted(parse("apiVersion: scone/5.7\nkind: genservice\n")),
            "service.yaml:1:1: environment: required field is missing\n"
            "service.yaml:1:1: build: required field is missing\n"
            "service.yaml:1:13: apiVersion: version scone/5.7 is too old; sconectl reads "
            "scone/5.8 and later\n");
  EXPECT_EQ(formatted(parse("apiVersion: scone/5.8\nkind: genAppImage\n")),
            "service.yaml:2:7: kind: unknown manifest kind 'genAppImage'; expected genservice or "
            "mesh (genAppImage was renamed to genservice)\n");
}

}  // namespace
}  // namespace sconectl::manifest
