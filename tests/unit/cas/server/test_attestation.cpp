// The local CAS's attestation endpoint, driven by the simulation runtime's own protocol code.
#include "cas_fixture.hpp"
#include "sconectl/cas/attestation.hpp"
#include "sconectl/runtime/runtime.hpp"

#include <atomic>
#include <thread>

namespace sconectl::cas::testing {
namespace {

constexpr const char* k_measurement =
    "1111111111111111111111111111111111111111111111111111111111111111";
// The session's security.service_access_token, which a simulated program must present.
constexpr const char* k_token = "4f1d0c2e9a7b6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c";
constexpr const char* k_other_measurement =
    "2222222222222222222222222222222222222222222222222222222222222222";

// The runtime's channel, answered in-process by the request handler.
class HandlerChannel final : public runtime::CasChannel {
 public:
  // Holds the fixture's pointer: the fixture opens (and may reopen) the handler in SetUp.
  explicit HandlerChannel(std::unique_ptr<server::RequestHandler>& cas) : m_cas(cas) {}
  Result<runtime::ChannelAnswer> send(const http1::Request& request) override
  {
    if (request.method == "POST") {
      last_body = request.body;
    }
    const auto response = m_cas->handle(CasRequest{.method = request.method,
                                                   .path = request.target,
                                                   .content_type = request.content_type,
                                                   .body = request.body});
    return runtime::ChannelAnswer{response.status, response.body};
  }
  std::string last_body;

 private:
  std::unique_ptr<server::RequestHandler>& m_cas;
};

std::string service_session(const std::string& name,
                            const std::string& tolerate = "[simulation]",
                            const std::string& extra_secret = "",
                            const std::string& token = k_token)
{
  return session_yaml(name,
                      "services:\n"
                      "  - name: api\n"
                      "    image_name: api\n"
                      "    command: [\"python3\", \"app.py\", \"@@1\"]\n"
                      "    pwd: /app\n"
                      "    environment:\n"
                      "      API_USER: myself\n"
                      "      API_PASSWORD: \"$$SCONE::api_password$$\"\n"
                      "      KEY_HEX: \"$$SCONE::key:hex$$\"\n"
                      "      \\@\\@HOME: \"\"\n"
                      "    attestation:\n"
                      "      mrenclave: [\""
                          + std::string(k_measurement)
                          + "\"]\n"
                            "images:\n"
                            "  - name: api\n"
                            "    injection_files:\n"
                            "      - path: /run/api/conf\n"
                            "        content: \"password=$$SCONE::api_password$$\\n\"\n"
                            "secrets:\n"
                            "  - name: api_password\n"
                            "    kind: ascii\n"
                            "    size: 16\n"
                            "  - name: key\n"
                            "    kind: binary\n"
                            "    value: \"00ff\"\n"
                          + extra_secret + "security:\n"
                          + (token.empty() ? "" : "  service_access_token: \"" + token + "\"\n")
                          + "  attestation:\n    tolerate: " + tolerate + "\n");
}

class AttestationTest : public CasTest {
 protected:
  Result<ProgramConfiguration> attest(const std::string& config_id,
                                      const std::string& measurement = k_measurement,
                                      const std::string& access_token = k_token)
  {
    return runtime::attest(
        m_channel,
        runtime::StartSettings{.config_id = config_id, .service_access_token = access_token},
        measurement);
  }
  HandlerChannel m_channel{m_cas};
};

TEST_F(AttestationTest, AnAdmittedMeasurementGetsTheResolvedConfiguration)
{
  create(m_alice, service_session("demo"));
  const auto configuration = attest("demo/api");
  ASSERT_TRUE(configuration) << configuration.error().message;
  const auto password = stored_secrets("demo").at("api_password").value;
  ASSERT_EQ(password.size(), 16U);
  EXPECT_EQ(configuration->command, (std::vector<std::string>{"python3", "app.py", "@@1"}));
  EXPECT_EQ(configuration->environment,
            (std::map<std::string, std::string>{
                {"API_PASSWORD", password}, {"API_USER", "myself"}, {"KEY_HEX", "00ff"}}));
  EXPECT_EQ(configuration->host_environment, (std::vector<std::string>{"HOME"}));
  EXPECT_EQ(configuration->pwd, "/app");
  ASSERT_EQ(configuration->injection_files.size(), 1U);
  EXPECT_EQ(configuration->injection_files[0].path, "/run/api/conf");
  EXPECT_EQ(configuration->injection_files[0].content, "password=" + password + "\n");
  EXPECT_TRUE(configuration->attestation_checked);
}

TEST_F(AttestationTest, ASessionWithoutPwdLeavesTheWorkingDirectoryToTheImage)
{
  auto session = service_session("demo");
  session.erase(session.find("    pwd: /app\n"), std::string("    pwd: /app\n").size());
  create(m_alice, session);
  const auto configuration = attest("demo/api");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_EQ(configuration->pwd, "");
}

// SCONE's policy language does not require `command` (Scontain's OTP and cosign sessions omit
// it): the program then runs with the arguments the container was started with.
TEST_F(AttestationTest, AServiceWithoutCommandRunsTheProgramWithTheContainersArguments)
{
  auto session = service_session("demo");
  const std::string command = "    command: [\"python3\", \"app.py\", \"@@1\"]\n";
  session.erase(session.find(command), command.size());
  create(m_alice, session);
  const auto configuration = attest("demo/api");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_TRUE(configuration->command.empty());
  const runtime::RuntimeArguments arguments{.measured = {.program = "python3", .pwd = "/app"},
                                            .host_arguments = {"app.py", "--port", "80"}};
  const auto plan = runtime::plan_launch(*configuration, arguments, {}, "/usr/bin/python3");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->argv, (std::vector<std::string>{"python3", "app.py", "--port", "80"}));
  EXPECT_EQ(plan->executable, "/usr/bin/python3");

  // A command that is given still has to start with the measured program.
  create(m_alice, service_session("other"));
  const auto given = attest("other/api");
  ASSERT_TRUE(given) << given.error().message;
  EXPECT_FALSE(
      runtime::plan_launch(*given, {.measured = {.program = "sh", .pwd = "/app"}}, {}, "/bin/sh"));
}

TEST_F(AttestationTest, AHostVariableIsPassedWhateverValueTheSessionWrites)
{
  auto session = service_session("demo");
  const std::string written = "      \\@\\@HOME: \"\"\n";
  ASSERT_NE(session.find(written), std::string::npos);
  session.replace(session.find(written),
                  written.size(),
                  "      \\@\\@HOME:\n      \\@\\@LANG: 1\n      \\@\\@TZ: ~\n");
  create(m_alice, session);
  const auto configuration = attest("demo/api");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_EQ(configuration->host_environment, (std::vector<std::string>{"HOME", "LANG", "TZ"}));
}

TEST_F(AttestationTest, AnotherMeasurementIsRefusedWithSconesMessage)
{
  create(m_alice, service_session("demo"));
  const auto refused = attest("demo/api", k_other_measurement);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            std::string("Attestation failed\nUnexpected enclave measurement (MRENCLAVE, ")
                + k_other_measurement
                + ") - not a value the session admits for this service; the CAS's log names the "
                  "admitted ones");
}

// Anyone may ask, so the refusal must not hand out the value to claim next.
TEST_F(AttestationTest, TheRefusalDoesNotShowTheAdmittedMeasurement)
{
  create(m_alice, service_session("demo"));
  const auto nonce = json_of(get(std::nullopt, "/v1/attestation/nonce")).at("nonce");
  AttestationRequest request{.config_id = "demo/api",
                             .measurement = k_other_measurement,
                             .nonce = nonce.get<std::string>(),
                             .public_key = std::string(64, 'a')};
  request.report_data = report_data_of(request);
  const auto response = m_cas->handle(
      CasRequest{.method = "POST", .path = "/v1/attestation", .body = to_json(request).dump()});
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.body.find(k_measurement), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("Expected"), std::string::npos) << response.body;
}

TEST_F(AttestationTest, OnlyTheCurrentSessionVersionCounts)
{
  const auto first = create(m_alice, service_session("demo"));
  auto updated = service_session("demo");
  updated.replace(updated.find(k_measurement), 64, k_other_measurement);
  ASSERT_EQ(upload(m_alice, with_predecessor(updated, first)).status, 200);
  EXPECT_FALSE(attest("demo/api", k_measurement));
  EXPECT_TRUE(attest("demo/api", k_other_measurement));
}

TEST_F(AttestationTest, ASessionThatDoesNotTolerateSimulationIsRefusedByName)
{
  create(m_alice, service_session("demo", "[outdated-tcb]"));
  const auto refused = attest("demo/api");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("does not tolerate simulation"), std::string::npos)
      << refused.error().message;
}

TEST_F(AttestationTest, AttestationModeNoneIsServedWithoutAMeasurementCheck)
{
  auto yaml = service_session("demo", "[outdated-tcb]");
  yaml += "    mode: none\n";
  create(m_alice, yaml);
  const auto configuration = attest("demo/api", k_other_measurement);
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_FALSE(configuration->attestation_checked);
}

TEST_F(AttestationTest, AReplayedRequestIsRefused)
{
  create(m_alice, service_session("demo"));
  ASSERT_TRUE(attest("demo/api"));
  const auto replayed = m_cas->handle(
      CasRequest{.method = "POST", .path = "/v1/attestation", .body = m_channel.last_body});
  EXPECT_EQ(replayed.status, 403);
  EXPECT_NE(messages_of(replayed).find("already used"), std::string::npos);
}

// Nonces are checked, not kept, so a flood of nonce requests locks no runtime out.
TEST_F(AttestationTest, RuntimesAttestWhileNoncesAreRequestedByTheThousand)
{
  create(m_alice, service_session("demo"));
  std::atomic<int> refused{0};
  std::thread flood([this, &refused] {
    for (int i = 0; i < 20000; ++i) {
      if (get(std::nullopt, "/v1/attestation/nonce").status != 200) {
        ++refused;
      }
    }
  });
  int attested = 0;
  for (int i = 0; i < 20; ++i) {
    const auto configured = attest("demo/api");
    EXPECT_TRUE(configured) << configured.error().message;
    attested += configured ? 1 : 0;
  }
  flood.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(attested, 20);
  EXPECT_TRUE(attest("demo/api"));
}

// `cas serve --nonce-lifetime` and `--max-used-nonces` reach the nonces the handler issues.
TEST_F(AttestationTest, TheNonceLifetimeAndTheUsedNonceBoundAreTheServersOptions)
{
  m_options.nonce_lifetime = std::chrono::seconds(7);
  m_options.max_used_nonces = 2;
  reopen();
  create(m_alice, service_session("demo"));
  const auto early = json_of(get(std::nullopt, "/v1/attestation/nonce"));
  EXPECT_EQ(early.at("expires_in"), 7);
  // Three used nonces with room for two: the oldest is forgotten, and the nonce issued before it
  // is refused from then on, though it was never used and has not expired.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(attest("demo/api"));
  }
  AttestationRequest request{.config_id = "demo/api",
                             .measurement = k_measurement,
                             .nonce = early.at("nonce").get<std::string>(),
                             .public_key = std::string(64, 'a'),
                             .service_access_token = k_token};
  request.report_data = report_data_of(request);
  const auto response = m_cas->handle(
      CasRequest{.method = "POST", .path = "/v1/attestation", .body = to_json(request).dump()});
  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_NE(messages_of(response).find("nonce"), std::string::npos) << response.body;
}

TEST_F(AttestationTest, ARequestWhoseFieldsWereChangedIsRefused)
{
  create(m_alice, service_session("demo"));
  const auto nonce = json_of(get(std::nullopt, "/v1/attestation/nonce")).at("nonce");
  AttestationRequest request{.config_id = "demo/api",
                             .measurement = k_measurement,
                             .nonce = nonce.get<std::string>(),
                             .public_key = std::string(64, 'a')};
  request.report_data = report_data_of(request);
  request.measurement = k_other_measurement;  // changed after binding
  const auto response = m_cas->handle(
      CasRequest{.method = "POST", .path = "/v1/attestation", .body = to_json(request).dump()});
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(messages_of(response).find("report data"), std::string::npos);
}

TEST_F(AttestationTest, UnknownSessionsAndServicesAre404)
{
  create(m_alice, service_session("demo"));
  // One answer for both: a caller that has proven nothing cannot tell which is missing.
  const auto missing_session = attest("nothing/api");
  ASSERT_FALSE(missing_session);
  EXPECT_EQ(missing_session.error().message,
            "no session 'nothing' with a service 'api' on this CAS");
  const auto missing_service = attest("demo/other");
  ASSERT_FALSE(missing_service);
  EXPECT_EQ(missing_service.error().message,
            "no session 'demo' with a service 'other' on this CAS");
}

TEST_F(AttestationTest, GarbageAndTricksGet4xx)
{
  create(m_alice, service_session("demo"));
  for (const std::string& body :
       {std::string("not json"),
        std::string("{}"),
        std::string("[1,2,3]"),
        std::string(R"({"config_id":"demo/api","measurement":"x","nonce":"y","public_key":"z",)"
                    R"("report_data":"w"})"),
        std::string(R"({"config_id":"demo/api","extra":1})"),
        std::string(100000, '{')}) {
    const auto response =
        m_cas->handle(CasRequest{.method = "POST", .path = "/v1/attestation", .body = body});
    EXPECT_GE(response.status, 400) << body.substr(0, 40);
    EXPECT_LT(response.status, 500) << body.substr(0, 40);
  }
  for (const char* config_id : {"../demo/api", "demo/../demo/api", "/api", "demo/", "x"}) {
    const auto refused = attest(config_id);
    EXPECT_FALSE(refused) << config_id;
  }
  EXPECT_EQ(m_cas->handle(CasRequest{.method = "DELETE", .path = "/v1/attestation"}).status, 405);
  EXPECT_TRUE(attest("demo/api"));  // still serving
}

TEST_F(AttestationTest, AServiceAccessTokenMustBePresentedAtStart)
{
  create(m_alice, service_session("demo", "[simulation]", "", "second-factor-4711"));
  for (const char* wrong : {"", "second-factor-4712", "second-factor-471"}) {
    const auto refused = attest("demo/api", k_measurement, wrong);
    ASSERT_FALSE(refused) << wrong;
    EXPECT_NE(refused.error().message.find("SCONE_SERVICE_ACCESS_TOKEN"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find("second-factor-4711"), std::string::npos)
        << "the refusal must not show the token";
  }
  const auto configured = attest("demo/api", k_measurement, "second-factor-4711");
  ASSERT_TRUE(configured) << configured.error().message;
  EXPECT_EQ(m_channel.last_body.find("second-factor-4711") != std::string::npos, true);
  EXPECT_FALSE(configured->environment.contains("SCONE_SERVICE_ACCESS_TOKEN"));
}

// A simulated measurement is self-reported, so without a token anyone who knows the session's
// name could claim it: such a session gets nothing, and the refusal names the construct and the
// CAS's flag.
TEST_F(AttestationTest, ASimulatedSessionWithoutAServiceAccessTokenGetsNothing)
{
  create(m_alice, service_session("demo", "[simulation]", "", ""));
  for (const char* token : {"", k_token}) {
    const auto refused = attest("demo/api", k_measurement, token);
    ASSERT_FALSE(refused) << token;
    EXPECT_NE(refused.error().message.find("security.service_access_token"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("--allow-simulation-without-token"), std::string::npos)
        << refused.error().message;
  }
}

TEST_F(AttestationTest, TheInsecureFlagServesASimulatedSessionWithoutAToken)
{
  create(m_alice, service_session("demo", "[simulation]", "", ""));
  m_options.allow_simulation_without_token = true;
  reopen();
  const auto configuration = attest("demo/api", k_measurement, "");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_TRUE(configuration->attestation_checked);
}

TEST_F(AttestationTest, ASessionWithoutTokenAndAttestationModeNoneIsServedAsItSays)
{
  auto yaml = service_session("demo", "[outdated-tcb]", "", "");
  yaml += "    mode: none\n";
  create(m_alice, yaml);
  const auto configuration = attest("demo/api", k_other_measurement, "");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_FALSE(configuration->attestation_checked);
}

TEST_F(AttestationTest, InjectionFilesGetTheirPermission)
{
  auto yaml = service_session("demo");
  const std::string file = "      - path: /run/api/conf\n";
  yaml.replace(yaml.find(file), file.size(), file + "        permission: 0o640\n");
  create(m_alice, yaml);
  const auto configured = attest("demo/api");
  ASSERT_TRUE(configured) << configured.error().message;
  ASSERT_EQ(configured->injection_files.size(), 1U);
  EXPECT_EQ(configured->injection_files[0].mode, 0640U);
}

TEST_F(AttestationTest, ASignerVariantCannotMatchASimulatedEnclaveButAnMrenclaveVariantDoes)
{
  auto yaml = service_session("demo");
  const std::string variant =
      "    attestation:\n      mrenclave: [\"" + std::string(k_measurement) + "\"]\n";
  yaml.replace(yaml.find(variant),
               variant.size(),
               "    attestation:\n"
               "      - mrenclave: [\""
                   + std::string(k_measurement)
                   + "\"]\n"
                     "      - signer:\n"
                     "          mrsigner: \""
                   + std::string(64, 'a')
                   + "\"\n"
                     "          isvprodid: 1\n"
                     "          isvsvn_min: 2\n");
  create(m_alice, yaml);
  EXPECT_TRUE(attest("demo/api"));
  const auto refused = attest("demo/api", k_other_measurement);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("attestation[1]: a simulated enclave has no signer"),
            std::string::npos)
      << refused.error().message;
}

TEST_F(AttestationTest, APasswordRollReplacesTheValue)
{
  const auto first = create(m_alice, service_session("demo"));
  const auto before = attest("demo/api");
  ASSERT_TRUE(before);
  auto rolled = service_session("demo");
  rolled.replace(rolled.find("size: 16"), 8, "size: 24");
  ASSERT_EQ(upload(m_alice, with_predecessor(rolled, first)).status, 200);
  const auto after = attest("demo/api");
  ASSERT_TRUE(after);
  const auto& old_password = before->environment.at("API_PASSWORD");
  EXPECT_EQ(after->environment.at("API_PASSWORD").size(), 24U);
  EXPECT_EQ(after->injection_files[0].content.find(old_password), std::string::npos);
  EXPECT_EQ(after->environment.at("API_PASSWORD").find(old_password), std::string::npos);
}

TEST_F(AttestationTest, AnImportedSecretComesFromTheExportingSession)
{
  create(m_alice, session_yaml("shop", "access_policy:\n  create_sessions: [CREATOR]\n"));
  create(m_alice,
         session_yaml("shop/db",
                      "secrets:\n  - name: db_password\n    kind: ascii\n    size: 12\n"
                      "    export:\n      - session: shop/api\n"));
  create(m_alice,
         session_yaml("shop/api",
                      "services:\n  - name: api\n    command: [server]\n    pwd: /srv\n"
                      "    environment:\n      DB_PASSWORD: \"$$SCONE::db_password$$\"\n"
                      "    attestation:\n      mrenclave: [\""
                          + std::string(k_measurement)
                          + "\"]\n"
                            "secrets:\n  - name: db_password\n    import:\n"
                            "      session: ../db\n      secret: db_password\n"
                            "security:\n  service_access_token: \""
                          + std::string(k_token)
                          + "\"\n  attestation:\n    tolerate: [simulation]\n"));
  const auto configuration = attest("shop/api/api");
  ASSERT_TRUE(configuration) << configuration.error().message;
  EXPECT_EQ(configuration->environment.at("DB_PASSWORD"),
            stored_secrets("shop/db").at("db_password").value);
  EXPECT_EQ(configuration->environment.at("DB_PASSWORD").size(), 12U);
}

// The importer is uploaded first (its source does not exist yet, which a CAS accepts); what the
// source exports is checked when the program starts, against the versions current then.
TEST_F(AttestationTest, ImportsAreCheckedAgainstTheSourceWhenTheProgramStarts)
{
  create(m_alice, session_yaml("shop", "access_policy:\n  create_sessions: [CREATOR]\n"));
  const auto importer = [](const std::string& pin) {
    return session_yaml("shop/api",
                        "services:\n  - name: api\n    command: [server]\n    pwd: /srv\n"
                        "    environment:\n      DB_PASSWORD: \"$$SCONE::db_password$$\"\n"
                        "    attestation:\n      mrenclave: [\""
                            + std::string(k_measurement)
                            + "\"]\n"
                              "secrets:\n  - name: db_password\n    import:\n"
                              "      session: ../db\n      secret: db_password\n"
                            + pin + "security:\n  service_access_token: \"" + std::string(k_token)
                            + "\"\n  attestation:\n    tolerate: [simulation]\n");
  };
  const auto source = [](const std::string& export_lines) {
    return session_yaml(
        "shop/db",
        "secrets:\n  - name: db_password\n    kind: ascii\n    size: 12\n" + export_lines);
  };
  const auto api = create(m_alice, importer(""));
  const auto db = create(m_alice, source(""));  // exports nothing
  auto refused = attest("shop/api/api");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(
                "session 'shop/db' does not export secret 'db_password' to 'shop/api'"),
            std::string::npos)
      << refused.error().message;

  // Exported to another version of shop/api only.
  const auto db2 = upload(m_alice,
                          with_predecessor(source("    export:\n      - session: shop/api\n"
                                                  "        session_hash: \""
                                                  + std::string(64, 'c') + "\"\n"),
                                           db));
  ASSERT_EQ(db2.status, 200) << db2.body;
  EXPECT_FALSE(attest("shop/api/api"));

  const auto db3 = upload(m_alice,
                          with_predecessor(source("    export:\n      - session: shop/api\n"
                                                  "        session_hash: \""
                                                  + api + "\"\n"),
                                           json_of(db2).at("hash").get<std::string>()));
  ASSERT_EQ(db3.status, 200) << db3.body;
  const auto configured = attest("shop/api/api");
  ASSERT_TRUE(configured) << configured.error().message;
  EXPECT_EQ(configured->environment.at("DB_PASSWORD"),
            stored_secrets("shop/db").at("db_password").value);

  // An import pinned to an older version of its source.
  const auto db3_hash = json_of(db3).at("hash").get<std::string>();
  const auto pinned = upload(
      m_alice,
      with_predecessor(importer("      session_hash: \"" + std::string(64, 'd') + "\"\n"), api));
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  refused = attest("shop/api/api");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("which is now at version " + db3_hash), std::string::npos)
      << refused.error().message;
}

TEST_F(AttestationTest, AnUnchangedDefinitionKeepsTheValueAcrossUpdates)
{
  const auto first = create(m_alice, service_session("demo"));
  const auto before = attest("demo/api");
  auto updated = service_session("demo");
  updated.replace(updated.find("API_USER: myself"), 16, "API_USER: others");
  ASSERT_EQ(upload(m_alice, with_predecessor(updated, first)).status, 200);
  const auto after = attest("demo/api");
  ASSERT_TRUE(before && after);
  EXPECT_EQ(after->environment.at("API_PASSWORD"), before->environment.at("API_PASSWORD"));
  EXPECT_EQ(after->environment.at("API_USER"), "others");
}

}  // namespace
}  // namespace sconectl::cas::testing
