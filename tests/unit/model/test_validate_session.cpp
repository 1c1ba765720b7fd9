#include "sconectl/model/export_match.hpp"
#include "sconectl/model/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sconectl::model {
namespace {

const std::string k_hash(64, 'a');

SessionDocument parse(const std::string& text)
{
  auto document = parse_session_yaml(text);
  if (!document) {
    throw std::runtime_error(document.error().message);
  }
  return *document;
}

std::string problems_of(const std::string& text, const std::vector<Session>& others = {})
{
  const auto session = parse(text);
  const SessionLookup lookup = [&](const std::string& name) -> const SessionDocument* {
    for (const auto& other : others) {
      if (other.name == name) {
        return &other.document;
      }
    }
    return nullptr;
  };
  std::string joined;
  for (const auto& problem : validate_session(session, lookup)) {
    joined += format(problem) + "\n";
  }
  return joined;
}

std::string service_session(const std::string& body)
{
  return R"(version: "0.3.10"
name: ns/app
services:
  - name: app
    image_name: app
    command: ["python3", "app.py"]
    pwd: /app
)" + body;
}

TEST(ValidateSessionTest, AcceptsAGeneratedLookingSession)
{
  EXPECT_EQ(problems_of(service_session(R"(    environment:
      PASSWORD: "$$SCONE::pw$$"
      CERT: "$$SCONE::cert:crt$$"
    attestation:
      mrenclave: [")" + k_hash + R"("]
images:
  - name: app
    injection_files:
      - path: /app/key.pem
        content: "$$SCONE::key$$"
secrets:
  - name: pw
    kind: ascii
    size: 12
  - name: key
    kind: private-key
  - name: ca
    kind: x509-ca
    private_key: key
  - name: cert
    kind: x509
    private_key: key
    issuer: ca
)")),
            "");
}

TEST(ValidateSessionTest, PwdIsOptional)
{
  // As Scontain's own sessions write a service: a command and nothing else.
  EXPECT_EQ(problems_of(R"yaml(version: "0.3.10"
name: ns/app
services:
  - name: app
    command: python3 -c "print(1)"
security:
  attestation:
    mode: none
)yaml"),
            "");
  EXPECT_NE(problems_of(service_session("").replace(
                            service_session("").find("pwd: /app"), 9, "pwd: [/app]"))
                .find("services[0].pwd: expected a string"),
            std::string::npos);
}

TEST(ValidateSessionTest, CommandIsOptional)
{
  // As Scontain's OTP and cosign sessions write a service: no command.
  EXPECT_EQ(problems_of(R"yaml(version: "0.3.10"
name: ns/app
services:
  - name: app
    image_name: app
security:
  attestation:
    mode: none
images:
  - name: app
)yaml"),
            "");
  EXPECT_NE(problems_of(R"yaml(version: "0.3.10"
name: ns/app
services:
  - name: app
    command: []
security:
  attestation:
    mode: none
)yaml")
                .find("services[0].command: expected a non-empty list of strings"),
            std::string::npos);
}

TEST(ValidateSessionTest, ATopLevelAttestationIsNamedWithWhereSconeReadsIt)
{
  // As Scontain's args-env README writes it.
  const auto text = problems_of(R"yaml(version: "0.3.10"
name: ns/app
attestation:
  mode: none
services:
  - name: app
    command: ./app arg1
)yaml");
  EXPECT_NE(text.find("attestation: is not a top-level key of a session: SCONE reads attestation "
                      "settings from security.attestation (the whole session, e.g. mode: none) "
                      "or services[].attestation (one service)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("services[0].attestation: is required unless security.attestation.mode is "
                      "none: without it any program could claim the service (the top-level "
                      "attestation key is not read: move it under security)"),
            std::string::npos)
      << text;
  EXPECT_LT(text.find("attestation: is not a top-level key"), text.find("services[0].attestation"));
}

TEST(ValidateSessionTest, TheValueOfAHostVariableIsIgnored)
{
  EXPECT_EQ(problems_of(service_session(R"(    environment:
      \@\@EMPTY: ""
      \@\@NULL:
      \@\@TILDE: ~
      \@\@NUMBER: 3
      \@\@BOOLEAN: true
      \@\@TEXT: ignored
    attestation:
      mrenclave: [")" + k_hash + R"("]
images:
  - name: app
)")),
            "");
  // An ordinary variable still needs a string.
  EXPECT_NE(problems_of(service_session(R"(    environment:
      PLAIN:
)"))
                .find("services[0].environment.PLAIN: expected a string"),
            std::string::npos);
}

TEST(ValidateSessionTest, AConfigFragmentIsASecretKindThatReplacesASection)
{
  // Defined here, or imported from another session of the namespace as Scontain's tutorials do.
  EXPECT_EQ(problems_of(R"(version: "0.3.10"
name: ns/app
access_policy: $$SCONE::access_policy$$
secrets:
  - name: access_policy
    kind: config-fragment
    value:
      read: [CREATOR]
      update: [CREATOR]
)"),
            "");
  EXPECT_EQ(problems_of(R"(version: "0.3.10"
name: ns/app
access_policy: $$SCONE::access_policy$$
secrets:
  - name: access_policy
    import:
      session: ../policy
      secret: access_policy
)",
                        {{.name = "ns/policy", .document = parse(R"(name: ns/policy
secrets:
  - name: access_policy
    kind: config-fragment
    value: {read: [CREATOR]}
    export: [{namespace: ns}]
)")}}),
            "");
  const auto problems = problems_of(R"(version: "0.3.10"
name: ns/app
access_policy: $$SCONE::missing$$
security: $$SCONE::pw$$
secrets:
  - name: pw
    kind: ascii
  - name: empty
    kind: config-fragment
  - name: text
    kind: config-fragment
    value: not a mapping
  - name: key
    kind: private-key
  - name: cert
    kind: x509
    private_key: text
)");
  EXPECT_EQ(problems.find("unknown"), std::string::npos) << problems;
  for (const auto* expected :
       {"secrets[1].value: is required: a config-fragment is the YAML mapping or list given here",
        "secrets[2].value: expected a YAML mapping",
        "secrets[4].private_key: names secret 'text' of kind config-fragment; expected kind "
        "private-key",
        "access_policy: $$SCONE::missing$$ names secret 'missing', which this session neither "
        "defines nor imports",
        "security: $$SCONE::pw$$ names secret 'pw' of kind ascii; a section is replaced only by "
        "a config-fragment"}) {
    EXPECT_NE(problems.find(expected), std::string::npos) << expected << " in\n" << problems;
  }
}

// SCONE lets a config-fragment stand for a section and any secret for an entry of a list section
// (lists are merged): neither is a malformed section.
TEST(ValidateSessionTest, ASecretMayStandForASectionOrAnEntryOfAListSection)
{
  const auto session = parse(R"(version: "0.3.10"
name: ns/app
access_policy:
  read: $$SCONE::readers$$
services:
  - name: app
    command: [app]
    environment: $$SCONE::env$$
    attestation:
      - mrenclave: [)" + k_hash
                             + R"(, $$SCONE::more_enclaves$$]
        signer: $$SCONE::signer$$
      - $$SCONE::variant$$
images:
  - name: all_files
    injection_files: $$SCONE::files$$
  - name: one_file
    injection_files:
      - $$SCONE::file$$
security:
  attestation:
    tolerate: $$SCONE::tolerations$$
    ignore_advisories: [INTEL-SA-00615, $$SCONE::advisory$$]
secrets:
  - {name: readers, kind: config-fragment, value: [CREATOR]}
  - {name: env, kind: config-fragment, value: {A: b}}
  - {name: more_enclaves, kind: config-fragment, value: [)"
                             + k_hash + R"(]}
  - {name: signer, kind: config-fragment, value: {mrsigner: )"
                             + k_hash + R"(, isvprodid: 1}}
  - {name: variant, kind: config-fragment, value: {mrenclave: )"
                             + k_hash + R"(}}
  - {name: files, kind: config-fragment, value: [{path: /a, content: b}]}
  - {name: file, kind: config-fragment, value: {path: /a, content: b}}
  - {name: tolerations, kind: config-fragment, value: [outdated-tcb]}
  - {name: advisory, kind: ascii, value: INTEL-SA-00614}
)");
  const SessionLookup none = [](const std::string&) { return nullptr; };
  std::string problems;
  for (const auto& problem : validate_session(session, none)) {
    problems += format(problem) + "\n";
  }
  EXPECT_EQ(problems, "");
  std::vector<std::string> found;
  for (const auto& [path, secret, whole_section] : section_placeholders(session)) {
    found.push_back(path + " " + secret + (whole_section ? " section" : " entry"));
  }
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found,
            (std::vector<std::string>{
                "access_policy.read readers section",
                "images[0].injection_files files section",
                "images[1].injection_files[0] file entry",
                "security.attestation.ignore_advisories[1] advisory entry",
                "security.attestation.tolerate tolerations section",
                "services[0].attestation[0].mrenclave[1] more_enclaves entry",
                "services[0].attestation[0].signer signer section",
                "services[0].attestation[1] variant entry",
                "services[0].environment env section",
            }));

  // The secret must exist; a section is replaced by a config-fragment only; an entry by any
  // secret in one of its formats.
  const auto wrong = problems_of(service_session(R"(    environment: $$SCONE::pw$$
    attestation:
      mrenclave: [$$SCONE::missing$$, $$SCONE::pw$$, $$SCONE::pw:hex$$]
images:
  - name: app
    injection_files: {path: /a}
secrets:
  - {name: pw, kind: ascii}
)"));
  EXPECT_EQ(wrong.find("expected a mapping of names to values"), std::string::npos) << wrong;
  for (const auto* expected :
       {"services[0].environment: $$SCONE::pw$$ names secret 'pw' of kind ascii; a section is "
        "replaced only by a config-fragment",
        "services[0].attestation.mrenclave[0]: $$SCONE::missing$$ names secret 'missing', which "
        "this session neither defines nor imports",
        "services[0].attestation.mrenclave[2]: $$SCONE::pw:hex$$: 'hex' is not a format of secret "
        "'pw'",
        "images[0].injection_files: expected a list of files"}) {
    EXPECT_NE(wrong.find(expected), std::string::npos) << expected << " in\n" << wrong;
  }
  EXPECT_EQ(wrong.find("mrenclave[1]"), std::string::npos) << wrong;
}

TEST(ValidateSessionTest, ReportsReferencesFormatsLinksAndAttestation)
{
  const auto text = problems_of(service_session(R"(    environment:
      A: "$$SCONE::missing$$"
      B: "$$SCONE::pw:crt$$"
      C: 12
images:
  - name: app
secrets:
  - name: pw
    kind: ascii
  - name: cert
    kind: x509
    private_key: pw
    issuer: nowhere
  - name: pw
    kind: binary
)"));
  EXPECT_NE(text.find("session 'ns/app': secrets[2].name: secret 'pw' is defined twice"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("secrets[1].private_key: names secret 'pw' of kind ascii; expected kind "
                      "private-key"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("secrets[1].issuer: names secret 'nowhere', which this session neither "
                      "defines nor imports"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("services[0].environment.A: $$SCONE::missing$$ names secret 'missing'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("services[0].environment.B: $$SCONE::pw:crt$$: 'crt' is not a format"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("services[0].environment.C: expected a string (quote numbers)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("services[0].attestation: is required"), std::string::npos) << text;
}

TEST(ValidateSessionTest, AnImportNeedsAMatchingExport)
{
  const std::vector<Session> others{{.name = "ns/db", .document = parse(R"(name: ns/db
secrets:
  - name: shared
    kind: ascii
    export:
      - session: ../app
  - name: private
    kind: ascii
  - name: everyone
    kind: ascii
    export:
      - namespace: ns
)")}};
  const auto session = [](const std::string& secret, const std::string& from) {
    return service_session(R"(    attestation:
      mrenclave: ")" + k_hash
                           + R"("
images:
  - name: app
secrets:
  - name: x
    import:
      session: )" + from + R"(
      secret: )" + secret + "\n");
  };
  EXPECT_EQ(problems_of(session("shared", "ns/db"), others), "");
  EXPECT_EQ(problems_of(session("everyone", "../db"), others), "");
  EXPECT_NE(problems_of(session("private", "ns/db"), others)
                .find("session 'ns/db' does not export secret 'private' to 'ns/app'"),
            std::string::npos);
  EXPECT_NE(problems_of(session("absent", "ns/db"), others)
                .find("session 'ns/db' defines no secret 'absent'"),
            std::string::npos);
  EXPECT_NE(problems_of(session("shared", "ns/elsewhere"), others)
                .find("imports from session 'ns/elsewhere', which does not exist"),
            std::string::npos);
}

// Scontain's own sessions write `export` as a single mapping; it is a list of one.
TEST(ValidateSessionTest, AnExportWrittenAsOneMappingIsAListOfOne)
{
  const std::vector<Session> others{{.name = "ns/db", .document = parse(R"(name: ns/db
secrets:
  - name: to_app
    kind: ascii
    export:
      session: ns/app
  - name: to_namespace
    kind: ascii
    export: {namespace: ns}
  - name: to_other
    kind: ascii
    export:
      session: ns/other
)")}};
  const auto session = [](const std::string& secret) {
    return service_session(R"(    attestation:
      mrenclave: ")" + k_hash
                           + R"("
images:
  - name: app
secrets:
  - name: x
    import:
      session: ns/db
      secret: )" + secret + "\n");
  };
  EXPECT_EQ(problems_of(session("to_app"), others), "");
  EXPECT_EQ(problems_of(session("to_namespace"), others), "");
  EXPECT_NE(problems_of(session("to_other"), others)
                .find("session 'ns/db' does not export secret 'to_other' to 'ns/app'"),
            std::string::npos);

  const auto db = others.front().document;
  const auto one = export_entries(db.at("secrets").at(0));
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one.front().second, "export");
  EXPECT_EQ(one.front().first->at("session"), "ns/app");
  const auto listed = parse("name: x\nexport:\n  - session: a\n  - namespace: b\n");
  const auto two = export_entries(listed);
  ASSERT_EQ(two.size(), 2U);
  EXPECT_EQ(two.back().second, "export[1]");
  EXPECT_TRUE(export_entries(parse("name: x\nexport: everyone\n")).empty());
  EXPECT_TRUE(export_entries(parse("name: x\n")).empty());
}

// Found by tests/fuzz/cas_fuzz.py: a non-string mode made the local CAS answer 500.
TEST(ValidateSessionTest, AnAttestationModeOfTheWrongTypeIsAProblemNotAnException)
{
  for (const auto* mode : {"0", "[none]", "{a: b}", "true"}) {
    std::string problems;
    EXPECT_NO_THROW(problems = problems_of(std::string(R"(version: "0.3.10"
name: ns/app
services:
  - name: app
    command: python3 /app/main.py
    pwd: /
    attestation:
      mrenclave: [")") + k_hash + R"("]
security:
  attestation:
    mode: )" + mode + "\n"))
        << mode;
  }
}

TEST(FindSecretTest, FindsTheDefinitionByNameAndSkipsMalformedEntries)
{
  const auto session = parse(R"(version: "0.3.10"
name: ns/app
secrets:
  - just text
  - name: 7
    kind: ascii
  - name: api_password
    kind: ascii
)");
  const auto* found = find_secret(session, "api_password");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->at("kind"), "ascii");
  EXPECT_EQ(find_secret(session, "7"), nullptr);
  EXPECT_EQ(find_secret(session, "missing"), nullptr);
  EXPECT_EQ(find_secret(parse("name: x\n"), "api_password"), nullptr);
}

TEST(ValidateSessionTest, RefusesBadNamesAndPredecessors)
{
  const auto text = problems_of(R"(version: "0.3.10"
name: "ns/../evil"
predecessor: "not-a-hash"
)");
  EXPECT_NE(text.find("name: 'ns/../evil' is not a valid session name"), std::string::npos) << text;
  EXPECT_NE(text.find("predecessor: expected the 64 hex digit hash"), std::string::npos) << text;
}

TEST(SessionYamlTest, QuotesEveryStringAndReadsItBack)
{
  SessionDocument document{{"version", "0.3.10"},
                           {"name", "ns/app"},
                           {"services",
                            {{{"name", "app"},
                              {"command", {"echo", "a: b", "# not a comment", "123", "true"}},
                              {"environment", {{"MULTI", "line one\nline \"two\"\n"}}}}}},
                           {"secrets", {{{"name", "pw"}, {"kind", "ascii"}, {"size", 12}}}}};
  const auto text = to_yaml(document);
  EXPECT_NE(text.find("- \"123\""), std::string::npos) << text;
  EXPECT_NE(text.find("size: 12\n"), std::string::npos) << text;
  EXPECT_EQ(text.substr(0, 17), "version: \"0.3.10\"");
  const auto back = parse_session_yaml(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, document);
  EXPECT_EQ(to_yaml(*back), text);
}

// The CAS hashes what it parses from the YAML it is sent, and the client hashes the document it
// sent: the two agree only because every session value survives to_yaml and back unchanged.
TEST(SessionYamlTest, EveryValueTypeRoundTripsExactly)
{
  const auto document = SessionDocument::parse(R"({
    "name": "ns/app", "text": "line one\nline \"two\" # not a comment: {x}",
    "looks_like_other_types": ["true", "null", "12", "-3", "1.5", "~", ""],
    "flag": true, "off": false, "nothing": null, "count": 12, "negative": -3,
    "ratio": 0.1, "big": 123456789012345678, "empty_list": [], "empty_map": {},
    "nested": {"list": [{"a": "b"}, [1, 2]], "unicode": "grüße ✓"}
  })");
  const auto text = to_yaml(document);
  const auto back = parse_session_yaml(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, document) << text;
  EXPECT_EQ(session_hash(*back), session_hash(document));
  EXPECT_EQ(to_yaml(*back), text);
}

TEST(SessionYamlTest, PlainScalarsAreTypedAsTheYamlCoreSchemaTypesThem)
{
  const auto parsed = parse_session_yaml(
      "a: 12\nb: -3\nc: 1.5\nd: .5\ne: 2.5e-3\nf: 1.\ng: +7\nh: 1.2.3\ni: 12abc\nj: 1e5\n"
      "k: .\nl: '12'\nm: true\nn: ~\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& d = *parsed;
  EXPECT_TRUE(d["a"].is_number_unsigned());
  EXPECT_EQ(d["b"], -3);
  EXPECT_EQ(d["c"], 1.5);
  EXPECT_EQ(d["d"], 0.5);
  EXPECT_EQ(d["e"], 2.5e-3);
  EXPECT_EQ(d["f"], 1.0);
  EXPECT_EQ(d["g"], 7);
  for (const char* text : {"h", "i", "j", "k", "l"}) {
    EXPECT_TRUE(d[text].is_string()) << text;
  }
  EXPECT_EQ(d["m"], true);
  EXPECT_TRUE(d["n"].is_null());
}

TEST(SessionYamlTest, RefusesAliasBombsSelfReferencesAndDuplicateKeys)
{
  const auto bomb = parse_session_yaml(R"(a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
)");
  ASSERT_FALSE(bomb);
  EXPECT_NE(bomb.error().message.find("more than"), std::string::npos) << bomb.error().message;
  const auto duplicate = parse_session_yaml("name: a\nname: b\n");
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("duplicate key 'name'"), std::string::npos);
  const auto broken = parse_session_yaml("name: [a\n");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("line "), std::string::npos);
  EXPECT_FALSE(parse_session_yaml("- a\n- b\n"));
}

TEST(SessionYamlTest, RefusesASecondDocumentNamingItsLine)
{
  const auto two = parse_session_yaml("name: ns/a\nversion: \"0.3.10\"\n---\nname: ns/b\n");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message.rfind("line 3, column 1: more than one YAML document", 0), 0U)
      << two.error().message;
  for (const char* one : {"---\nname: ns/a\n", "name: ns/a\n...\n", "---\nname: ns/a\n...\n"}) {
    const auto parsed = parse_session_yaml(one);
    ASSERT_TRUE(parsed) << one;
    EXPECT_EQ((*parsed)["name"], "ns/a");
  }
}

}  // namespace
}  // namespace sconectl::model
