// The session language as the local CAS reads it: written by hand as SCONE's documentation writes
// sessions (unquoted scalars, comments, anchors), and every construct it does not honour refused
// by name rather than stored and ignored.
#include "cas_fixture.hpp"

namespace sconectl::cas::testing {
namespace {

using SessionLanguageTest = CasTest;

const std::string k_hash = std::string(64, '4');

// A namespace and a service session in the style of the language reference: unquoted
// `version: 0.3.10`, comments, an anchor reused by an alias, a list-form command, a relative
// import, host arguments, host environment passthrough, tolerations and advisories.
std::string backend_session()
{
  return R"(# hand-written, as in the language reference
version: 0.3.10
name: myapp/backend
access_policy:
  read: [CREATOR]
  update: [CREATOR]
services:
  - name: api
    image_name: api_img
    command: ["python3", "/app/main.py", "@@1"]
    pwd: /app
    environment:
      DB_PASSWORD: "$$SCONE::db_pw$$"
      \@\@HOME: ""
      LOG_LEVEL: &level debug
      OTHER_LEVEL: *level
    attestation:
      mrenclave: [)"
         + k_hash + R"(]   # SCONE_HASH=1 prints it
images:
  - name: api_img
    injection_files:
      - path: /tls/server.pem
        content: |
          $$SCONE::srv_cert:crt$$
          $$SCONE::srv_cert:chain$$
        permission: 0o600
      - path: /tls/server.key
        content: $$SCONE::srv_key$$
secrets:
  - name: db_pw
    kind: ascii
    size: 24
  - name: ca
    import:
      session: ../pki
      secret: ca
  - name: srv_key
    kind: private-key
    migrate: true
  - name: srv_cert
    kind: x509
    private_key: srv_key
    issuer: ca
    san: ["dns:backend"]
    endpoint: server
security:
  attestation:
    mode: hardware
    tolerate: [outdated-tcb, software-hardening-needed, simulation]
    ignore_advisories: [INTEL-SA-00615]
)";
}

TEST_F(SessionLanguageTest, AHandWrittenSessionInTheReferenceStyleIsStoredAsWritten)
{
  create(m_alice, "version: 0.3.10\nname: myapp  # the namespace\n");
  create(m_alice, R"(version: 0.3.10
name: myapp/pki
secrets:
  - name: ca
    kind: x509-ca
    export:
      - namespace: myapp
)");
  const auto response = upload(m_alice, backend_session());
  ASSERT_EQ(response.status, 201) << response.body;
  const auto stored = json_of(read(m_alice, "myapp/backend")).at("session").get<std::string>();
  for (const char* kept : {"\"@@1\"",
                           "OTHER_LEVEL: \"debug\"",
                           "\"INTEL-SA-00615\"",
                           "permission: \"0o600\"",
                           "endpoint: \"server\"",
                           "session: \"../pki\""}) {
    EXPECT_NE(stored.find(kept), std::string::npos) << kept << " in\n" << stored;
  }
  const auto values = stored_secrets("myapp/backend");
  EXPECT_EQ(values.count("srv_cert"), 1U);
  EXPECT_EQ(values.at("db_pw").value.size(), 24U);
}

TEST_F(SessionLanguageTest, EveryConstructThisCasCannotHonourIsRefusedByName)
{
  struct Case {
    std::string yaml;      // added to a session named "demo"
    std::string expected;  // in the refusal
  };
  const std::vector<Case> cases = {
      {"volumes:\n  - name: data\n", "volumes: not supported by this CAS"},
      {"services:\n  - name: a\n    command: [x]\n    pwd: /\n    fspf_path: /fspf.pb\n"
       "    attestation: {mrenclave: ["
           + k_hash + "]}\n",
       "services[0].fspf_path: not supported by this CAS"},
      {"services:\n  - name: a\n    command: [x]\n    pwd: /\n    platforms: [" + k_hash
           + "]\n"
             "    attestation: {mrenclave: ["
           + k_hash + "]}\n",
       "services[0].platforms: not supported by this CAS"},
      {"services:\n  - name: a\n    command: [x]\n    pwd: /\n"
       "    one_time_password_shared_secret: JBSWY3DPEHPK3PXP\n"
       "    attestation: {mrenclave: ["
           + k_hash + "]}\n",
       "services[0].one_time_password_shared_secret: not supported"},
      {"images:\n  - name: i\n    volumes:\n      - name: data\n        path: /data\n",
       "images[0].volumes: not supported by this CAS"},
      {"images:\n  - name: i\n    injection_files:\n      - /etc/app.conf\n",
       "images[0].injection_files[0]: not supported by this CAS: a file given by its path only"},
      {"images:\n  - name: i\n    provide_secrets: [x]\n", "images[0].provide_secrets"},
      {"security:\n  singleton_enclaves: true\n", "security.singleton_enclaves: not supported"},
      {"security:\n  attestation:\n    mode: maa\n    url: https://x.attest.azure.net\n",
       "security.attestation.mode: not supported by this CAS: Microsoft Azure Attestation"},
      {"security:\n  attestation:\n    trusted_scone_qe_pubkeys: [" + k_hash + "]\n",
       "security.attestation.trusted_scone_qe_pubkeys: not supported"},
      {"security:\n  attestation:\n    tolerate: [hyperthreding]\n",
       "security.attestation.tolerate: \"hyperthreding\" is not a toleration"},
      {"secret_config:\n  store_in: akv\n", "secret_config: not supported by this CAS"},
      {"secrets:\n  - name: t\n    kind: aad-token\n",
       "secrets[0].kind: not supported by this CAS"},
      {"secrets:\n  - name: t\n    kind: jwt\n",
       "secrets[0].kind: not supported by this CAS: kind jwt"},
      {"secrets:\n  - name: t\n    kind: session-ca\n",
       "secrets[0].kind: not supported by this CAS: kind session-ca"},
      {"secrets:\n  - name: t\n    kind: pgp-key\n",
       "secrets[0].kind: not supported by this CAS: kind pgp-key"},
      {"secrets:\n  - name: f\n    kind: config-fragment\n    value: {attestation: {}}\n"
       "security: \"$$SCONE::f$$\"\n",
       "security: not supported by this CAS: a config fragment in place of this section"},
      {"secrets:\n  - name: f\n    kind: config-fragment\n    value: {mode: none}\n"
       "security:\n  attestation: \"$$SCONE::f$$\"\n",
       "security.attestation: not supported by this CAS: a config fragment in place of this "
       "section"},
      {"secrets:\n  - name: f\n    kind: config-fragment\n    value: {mrenclave: [" + k_hash
           + "]}\n"
             "services:\n  - name: a\n    command: [x]\n    attestation: \"$$SCONE::f$$\"\n",
       "services[0].attestation: not supported by this CAS: a config fragment"},
      {"secrets:\n  - {name: f, kind: config-fragment, value: {A: b}}\n"
       "services:\n  - name: a\n    command: [x]\n    environment: \"$$SCONE::f$$\"\n"
       "    attestation: {mrenclave: ["
           + k_hash + "]}\n",
       "services[0].environment: not supported by this CAS: a config fragment in place of this "
       "section"},
      {"secrets:\n  - {name: f, kind: config-fragment, value: [{path: /a, content: b}]}\n"
       "images:\n  - name: i\n    injection_files: \"$$SCONE::f$$\"\n",
       "images[0].injection_files: not supported by this CAS: a config fragment in place of this "
       "section"},
      {"secrets:\n  - {name: f, kind: config-fragment, value: {path: /a, content: b}}\n"
       "images:\n  - name: i\n    injection_files: [\"$$SCONE::f$$\"]\n",
       "images[0].injection_files[0]: not supported by this CAS: a secret in place of an entry of "
       "this list"},
      {"secrets:\n  - {name: f, kind: config-fragment, value: {mrenclave: " + k_hash
           + "}}\n"
             "services:\n  - name: a\n    command: [x]\n    attestation:\n      - {mrenclave: "
           + k_hash + "}\n      - \"$$SCONE::f$$\"\n",
       "services[0].attestation[1]: not supported by this CAS: a secret in place of an entry"},
      {"secrets:\n  - {name: m, kind: ascii, value: " + k_hash
           + "}\n"
             "services:\n  - name: a\n    command: [x]\n    attestation: {mrenclave: ["
           + k_hash + ", \"$$SCONE::m$$\"]}\n",
       "services[0].attestation.mrenclave[1]: not supported by this CAS: a secret in place of an "
       "entry"},
      {"secrets:\n  - {name: t, kind: config-fragment, value: [outdated-tcb]}\n"
       "security:\n  attestation:\n    tolerate: \"$$SCONE::t$$\"\n",
       "security.attestation.tolerate: not supported by this CAS: a config fragment in place of "
       "this section"},
      {"secrets:\n  - {name: r, kind: config-fragment, value: [CREATOR]}\n"
       "access_policy:\n  read: \"$$SCONE::r$$\"\n",
       "access_policy.read: not supported by this CAS: a config fragment in place of this section"},
      {"secrets:\n  - {name: p, kind: config-fragment, value: {read: \"$$SCONE::r$$\"}}\n"
       "  - {name: r, kind: config-fragment, value: [CREATOR]}\n"
       "access_policy: \"$$SCONE::p$$\"\n",
       "access_policy: $$SCONE::p$$: access_policy.read: not supported by this CAS: a config "
       "fragment in place of this list"},
      {"secrets:\n  - name: f\n    kind: config-fragment\n",
       "secrets[0].value: is required: a config-fragment is the YAML mapping"},
      {"secrets:\n  - name: f\n    kind: config-fragment\n    value: text\n",
       "secrets[0].value: expected a YAML mapping"},
      {"access_policy: \"$$SCONE::p$$\"\n",
       "access_policy: $$SCONE::p$$ names secret 'p', which this session neither defines nor "
       "imports"},
      {"access_policy: \"$$SCONE::p$$\"\nsecrets:\n  - name: p\n    kind: ascii\n",
       "$$SCONE::p$$ names secret 'p' of kind ascii"},
      {"access_policy: \"$$SCONE::p$$\"\nsecrets:\n  - name: p\n    kind: config-fragment\n"
       "    value:\n      read: [\"signer: abc\"]\n",
       "access_policy: $$SCONE::p$$: access_policy.read[0]: 'signer: abc' is not supported"},
      {"secrets:\n  - name: s\n    import:\n      cas_url: other.example:8081\n"
       "      cas_key: x\n      session: a\n      secret: b\n",
       "secrets[0].import.cas_url: not supported by this CAS: imports from another CAS"},
      {"secrets:\n  - name: s\n    import_akv:\n      vault: v\n",
       "secrets[0].import_akv: not supported by this CAS"},
      {"access_policy:\n  update: [\"$$SCONE::owner$$\"]\n",
       "access_policy.update[0]: names secret 'owner', which this session neither defines nor "
       "imports"},
      {"access_policy:\n  update: [\"require-all:\"]\n",
       "access_policy.update[0]: 'require-all:' is not supported by this CAS"},
      {"access_policy:\n  update: [\"signer: abc\"]\n",
       "access_policy.update[0]: 'signer: abc' is not supported by this CAS"},
      {"servces: []\n", "servces: not a key of session language 0.3"},
      // Scontain's args-env README writes it at the top level.
      {"attestation:\n  mode: none\n",
       "attestation: is not a top-level key of a session: SCONE reads attestation settings from "
       "security.attestation"},
      {"services:\n  - name: a\n    command: [x]\n    pwd: /\n    enviroment: {A: b}\n"
       "    attestation: {mrenclave: ["
           + k_hash + "]}\n",
       "services[0].enviroment: not a key of session language 0.3"},
  };
  for (const auto& [yaml, expected] : cases) {
    const auto response = upload(m_alice, session_yaml("demo", yaml));
    EXPECT_EQ(response.status, 400) << yaml;
    // A construct of SCONE's session language is never called unknown.
    EXPECT_EQ(messages_of(response).find("unknown"), std::string::npos) << response.body;
    EXPECT_NE(messages_of(response).find(expected), std::string::npos)
        << "expected '" << expected << "' in " << response.body;
  }
  EXPECT_EQ(json_of(read(m_alice, "demo")).value("hash", ""), "") << "nothing was stored";
}

TEST_F(SessionLanguageTest, WhatIsHonouredIsAcceptedWhereSconeWritesIt)
{
  int n = 0;
  for (const std::string& yaml : {
           std::string("security:\n  singleton_enclaves: false\n"),
           std::string("security:\n  service_access_token: \"t0ken\"\n"),
           std::string("security:\n  attestation:\n    mode: none\n"),
           std::string("salt: \"00112233445566778899aabbccddeeff\"\n"),
           "services:\n  - name: a\n    command: x --flag\n    pwd: /\n    persistency: None\n"
           "    attestation:\n      - mrenclave: "
               + k_hash
               + "\n      - signer:\n"
                 "          mrsigner: "
               + k_hash + "\n          isvprodid: 1\n          isvsvn: 2\n",
       }) {
    const auto response = upload(m_bob, session_yaml("demo" + std::to_string(n++), yaml));
    EXPECT_EQ(response.status, 201) << yaml << response.body;
  }
}

TEST_F(SessionLanguageTest, MalformedValuesAreRefusedWithTheirPath)
{
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"version: 0.3\n", "version: expected a string; quote it"},
      {"salt: \"abc\"\n", "salt: expected 16 bytes as 32 hex digits"},
      {"security:\n  service_access_token: \"\"\n", "security.service_access_token: must not be"},
      {"services:\n  - name: a\n    command: [x]\n    pwd: /\n"
       "    attestation:\n      signer: {mrsigner: abc, isvprodid: 1}\n",
       "services[0].attestation.signer.mrsigner: expected 64 hex digits"},
      {"images:\n  - name: i\n    injection_files:\n      - path: /x\n        content: y\n"
       "        permission: 0o1777\n",
       "images[0].injection_files[0].permission: expected an octal mode"},
  };
  for (const auto& [yaml, expected] : cases) {
    const std::string text =
        yaml.starts_with("version:") ? "name: \"demo\"\n" + yaml : session_yaml("demo", yaml);
    const auto response = upload(m_alice, text);
    EXPECT_EQ(response.status, 400) << yaml;
    EXPECT_NE(messages_of(response).find(expected), std::string::npos)
        << "expected '" << expected << "' in " << response.body;
  }
}

TEST_F(SessionLanguageTest, AYamlErrorNamesLineAndColumn)
{
  const auto response = upload(m_alice, "version: \"0.3.10\"\nname: demo\nservices: [\n  - a: b\n");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(messages_of(response).find("line "), std::string::npos) << response.body;
  EXPECT_NE(messages_of(response).find("column "), std::string::npos) << response.body;
}

}  // namespace
}  // namespace sconectl::cas::testing
