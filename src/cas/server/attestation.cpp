// The attestation and configuration endpoint of the local CAS (docs/attestation.md):
//
// * GET /v1/attestation/nonce hands out a single-use nonce (60 s), which the CAS can check without
//   having kept it (nonces.hpp), so asking for many locks nobody out. POST /v1/attestation takes
//   the runtime's request; its nonce is consumed first, so a request is answered at most once.
// * The session named by the config id must exist and have the service. Unless the session says
//   `security.attestation.mode: none`, it must tolerate `simulation` and the reported measurement
//   must be one of the service's current mrenclave values: only the current version of a session
//   counts, so a program that an older version admitted is refused once the session moved on.
// * The answer is the service's command, environment, pwd and injection files with every
//   $$SCONE::...$$ placeholder filled in, sealed to the request's ephemeral key. Constructs the
//   simulation runtime cannot honour are refused by name instead of being served weaker.
// * Each simulated attestation is logged as a warning, with the config id, never a value.
#include "sconectl/cas/attestation.hpp"

#include "nonces.hpp"
#include "placeholders.hpp"
#include "request_handler.hpp"
#include "sconectl/manifest/command_line.hpp"
#include "sconectl/manifest/names.hpp"
#include "sconectl/util/strings.hpp"
#include "session_support.hpp"
#include "stored_secrets.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

const Json* find_named(const Json& document, const char* list, const std::string& name)
{
  if (!document.contains(list) || !document.at(list).is_array()) {
    return nullptr;
  }
  for (const auto& entry : document.at(list)) {
    if (entry.is_object() && entry.value("name", std::string()) == name) {
      return &entry;
    }
  }
  return nullptr;
}

const Json& member_or_null(const Json& object, const char* key)
{
  static const Json null_value;
  return object.is_object() && object.contains(key) ? object.at(key) : null_value;
}

std::string text_of(const Json& value)
{
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The MRENCLAVE values a service admits: `attestation` as one variant or a list, and the older
// `mrenclaves` list. A variant with a signer admits no measurement here.
std::vector<std::string> allowed_measurements(const Json& service)
{
  std::vector<std::string> allowed;
  const auto add = [&allowed](const Json& value) {
    if (value.is_string()) {
      allowed.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const auto& item : value) {
        if (item.is_string()) {
          allowed.push_back(item.get<std::string>());
        }
      }
    }
  };
  // A variant that names a signer as well needs both to match, and a simulated enclave has none.
  const auto add_variant = [&add](const Json& variant) {
    if (variant.is_object() && !variant.contains("signer")) {
      add(member_or_null(variant, "mrenclave"));
    }
  };
  const auto& attestation = member_or_null(service, "attestation");
  if (attestation.is_object()) {
    add_variant(attestation);
  } else if (attestation.is_array()) {
    for (const auto& variant : attestation) {
      add_variant(variant);
    }
  }
  add(member_or_null(service, "mrenclaves"));
  return allowed;
}

// Where the service's signer-based variants are ("attestation", "attestation[1]").
std::vector<std::string> signer_variants(const Json& service)
{
  std::vector<std::string> found;
  const auto& attestation = member_or_null(service, "attestation");
  if (attestation.is_object() && attestation.contains("signer")) {
    found.emplace_back("attestation");
  }
  for (std::size_t i = 0; attestation.is_array() && i < attestation.size(); ++i) {
    if (attestation[i].is_object() && attestation[i].contains("signer")) {
      found.push_back("attestation[" + std::to_string(i) + "]");
    }
  }
  return found;
}

bool tolerates_simulation(const Json& document)
{
  const auto& tolerate = member_or_null(
      member_or_null(member_or_null(document, "security"), "attestation"), "tolerate");
  const auto matches = [](const Json& value) {
    return value.is_string() && value.get<std::string>() == model::k_simulation_toleration;
  };
  return matches(tolerate)
         || (tolerate.is_array() && std::any_of(tolerate.begin(), tolerate.end(), matches));
}

// Whether `given` is the session's security.service_access_token (true when it sets none).
// Compared in constant time: the token is a second factor, so how much of it matched stays hidden.
bool holds_access_token(const Json& document, const std::string& given)
{
  const auto& token = member_or_null(member_or_null(document, "security"), "service_access_token");
  if (token.is_null()) {
    return true;
  }
  const auto expected = text_of(token);
  return given.size() == expected.size()
         && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool has_access_token(const Json& document)
{
  return !member_or_null(member_or_null(document, "security"), "service_access_token").is_null();
}

std::string attestation_mode(const Json& document)
{
  const auto& mode =
      member_or_null(member_or_null(member_or_null(document, "security"), "attestation"), "mode");
  return mode.is_string() ? mode.get<std::string>() : "hardware";
}

class Configurator {
 public:
  Configurator(Store& store, const StoredVersion& session) : m_store(store), m_session(session) {}

  Result<std::string> resolve(const std::string& text, const std::string& where)
  {
    auto resolved =
        resolve_placeholders(text, [this](const std::string& name) { return secret_value(name); });
    if (!resolved) {
      return fail(resolved.error().kind, where + ": " + resolved.error().message);
    }
    return resolved;
  }

  Result<ProgramConfiguration> configure(const Json& service, const Json* image)
  {
    ProgramConfiguration configuration;
    // Empty when the session gives none: the runtime then stays in the image's working directory.
    configuration.pwd = service.value("pwd", std::string());
    const auto& command = member_or_null(service, "command");
    std::vector<std::string> words;
    if (command.is_string()) {
      auto split = manifest::split_command(command.get<std::string>());
      if (!split) {
        return fail(ErrorKind::manifest, "services[].command has unbalanced quotes");
      }
      words = std::move(*split);
    } else if (command.is_array()) {
      for (const auto& word : command) {
        words.push_back(text_of(word));
      }
    }
    // A service without `command` leaves the arguments to the program's start (an empty
    // command in the configuration); one that is given must name a program.
    if (words.empty() && service.contains("command")) {
      return fail(ErrorKind::manifest, "the service has no command");
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
      auto word = resolve(words[i], "command[" + std::to_string(i) + "]");
      if (!word) {
        return forward_error(std::move(word.error()));
      }
      configuration.command.push_back(std::move(*word));
    }
    const auto& environment = member_or_null(service, "environment");
    if (environment.is_object()) {
      for (const auto& [name, value] : environment.items()) {
        if (name.starts_with(R"(\@\@)")) {
          configuration.host_environment.push_back(name.substr(4));
          continue;
        }
        auto resolved = resolve(text_of(value), "environment " + name);
        if (!resolved) {
          return forward_error(std::move(resolved.error()));
        }
        configuration.environment[name] = std::move(*resolved);
      }
    }
    if (image != nullptr && image->contains("injection_files")) {
      for (const auto& file : image->at("injection_files")) {
        if (!file.is_object() || !file.contains("content")) {
          return fail(ErrorKind::manifest,
                      "images[].injection_files: a file given by path only is read from a "
                      "protected file system, which the simulation runtime does not have");
        }
        const auto path = file.value("path", std::string());
        auto content = resolve(text_of(file.at("content")), "injection file " + path);
        if (!content) {
          return forward_error(std::move(content.error()));
        }
        const auto mode = file.contains("permission")
                              ? model::file_permission(file.at("permission"))
                              : std::optional<unsigned>(0600);
        if (!mode) {
          return fail(ErrorKind::manifest, "injection file " + path + ": malformed permission");
        }
        configuration.injection_files.push_back({path, std::move(*content), *mode});
      }
    }
    return configuration;
  }

 private:
  Result<std::optional<SecretValue>> secret_value(const std::string& name)
  {
    auto stored = find_stored_secret(m_store, m_session.name, name);
    if (!stored) {
      return forward_error(std::move(stored.error()));
    }
    if (!*stored) {
      return std::optional<SecretValue>();
    }
    const Json* definition = find_named(m_session.document, "secrets", name);
    const bool written = definition != nullptr && definition->contains("value");
    return std::optional<SecretValue>(
        SecretValue{.stored = std::move(**stored), .written_in_session = written});
  }

  Store& m_store;
  const StoredVersion& m_session;
};

CasResponse refused(std::vector<std::string> messages)
{
  messages.insert(messages.begin(), "Attestation failed");
  return error_response(403, std::move(messages));
}

}  // namespace

CasResponse RequestHandler::attestation_nonce()
{
  const auto nonce = m_nonces.issue();
  if (!nonce) {
    return error_response(503, {"the local CAS has no randomness for a nonce; try again"});
  }
  return CasResponse{.status = 200,
                     .body = to_json(AttestationNonce{.nonce = *nonce,
                                                      .expires_in_seconds = static_cast<int>(
                                                          m_nonces.lifetime().count())})
                                 .dump()};
}

CasResponse RequestHandler::attest(const CasRequest& request)
{
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    return error_response(400, {"the attestation request is not JSON"});
  }
  auto parsed = attestation_request_from_json(body);
  if (!parsed) {
    return error_response(400, {"malformed attestation request", parsed.error().message});
  }
  const auto& attestation = *parsed;
  if (!m_nonces.consume(attestation.nonce)) {
    return refused(
        {"the nonce is unknown, expired or already used: a request is answered once "
         "(is this a replayed request?)"});
  }
  if (report_data_of(attestation) != attestation.report_data) {
    return refused({"the report data does not bind the request's fields"});
  }
  const auto slash = attestation.config_id.rfind('/');
  const auto session_name =
      slash == std::string::npos ? std::string() : attestation.config_id.substr(0, slash);
  const auto service_name =
      slash == std::string::npos ? std::string() : attestation.config_id.substr(slash + 1);
  if (!manifest::check_session_name(session_name).empty() || service_name.empty()
      || !manifest::check_session_name(service_name).empty()) {
    return error_response(400,
                          {"the config id must be <session>/<service>, got '"
                           + attestation.config_id.substr(0, 200) + "'"});
  }
  auto snapshot = m_readers.snapshot();
  if (!snapshot) {
    return error_response(500, {"the local CAS cannot read its session store"});
  }
  Store& store = snapshot->store();
  auto current = store.current(session_name);
  if (!current) {
    return error_response(500, {"the local CAS cannot read its session store"});
  }
  // A missing session and a missing service get the same answer: the caller has proven nothing.
  const Json* service =
      *current ? find_named((*current)->document, "services", service_name) : nullptr;
  if (service == nullptr) {
    return error_response(
        404,
        {"no session '" + session_name + "' with a service '" + service_name + "' on this CAS"});
  }
  const auto& session = **current;
  // Before any refusal that tells more about the session, so a caller without its token learns
  // nothing else.
  if (!holds_access_token(session.document, attestation.service_access_token)) {
    return refused({"the service access token is missing or wrong: session '" + session_name
                    + "' sets security.service_access_token; start the service with "
                      "SCONE_SERVICE_ACCESS_TOKEN set to it"});
  }
  const auto mode = attestation_mode(session.document);
  const bool checked = mode != "none";
  // A simulated measurement is self-reported: anyone who can pull the image can compute it. The
  // token is what keeps a caller who merely knows the session's name from its secrets.
  if (checked && !m_allow_simulation_without_token && !has_access_token(session.document)) {
    return refused(
        {"session '" + session_name
         + "' sets no security.service_access_token: a simulated measurement is "
           "self-reported, so this CAS configures a simulated program only for a "
           "session with a token that the program presents (SCONE_SERVICE_ACCESS_TOKEN). "
           "Add security.service_access_token to the session (apply -f mesh.yaml does "
           "for services built with --runtime sim), or start the CAS with the insecure "
           "--allow-simulation-without-token"});
  }
  const auto image_name = service->value("image_name", std::string());
  const Json* image =
      image_name.empty() ? nullptr : find_named(session.document, "images", image_name);
  // Sessions are checked when they are uploaded; this covers those an older CAS stored.
  if (const auto unsupported = unsupported_constructs(session.document); !unsupported.empty()) {
    std::vector<std::string> messages{
        "the session uses what the simulation runtime cannot "
        "honour, so it is not served with a weaker policy:"};
    messages.insert(messages.end(), unsupported.begin(), unsupported.end());
    return refused(std::move(messages));
  }
  if (checked && mode != "hardware") {
    return refused({"attestation mode '" + mode.substr(0, 40)
                    + "' is not available with the simulation runtime"});
  }
  if (checked && !tolerates_simulation(session.document)) {
    return refused({"session '" + session_name
                    + "' does not tolerate simulation: the program "
                      "runs without SGX. Add 'simulation' to policy.tolerate in the mesh (never "
                      "in production)"});
  }
  if (checked) {
    const auto allowed = allowed_measurements(*service);
    if (std::find(allowed.begin(), allowed.end(), attestation.measurement) == allowed.end()) {
      // The caller has proven nothing, so it learns only that its own value is not admitted: the
      // admitted values go to the CAS's log, for whoever runs it.
      const auto expected = strings::join(allowed, ", ");
      spdlog::warn("attestation of {} refused: measurement {} is not admitted (admitted: {})",
                   attestation.config_id,
                   attestation.measurement,
                   expected.empty() ? "none" : expected);
      std::vector<std::string> messages{
          "Unexpected enclave measurement (MRENCLAVE, " + attestation.measurement + ") - "
          + (allowed.empty() ? std::string("the service admits no measurement")
                             : std::string("not a value the session admits for this service; "
                                           "the CAS's log names the admitted ones"))};
      for (const auto& variant : signer_variants(*service)) {
        messages.push_back("services[]." + variant
                           + ": a simulated enclave has no signer (MRSIGNER), so this variant "
                             "admits no program here");
      }
      return refused(std::move(messages));
    }
  }
  Configurator configurator(store, session);
  auto configuration = configurator.configure(*service, image);
  if (!configuration) {
    return refused({configuration.error().message});
  }
  configuration->attestation_checked = checked;
  auto sealed = seal_configuration(attestation, to_json(*configuration).dump());
  if (!sealed) {
    return error_response(500, {"cannot seal the configuration", sealed.error().message});
  }
  if (checked) {
    spdlog::warn(
        "simulated attestation of {}: the measurement is self-reported, no hardware "
        "checked it",
        attestation.config_id);
  } else {
    spdlog::warn("{} configured without attestation (session attestation mode: none)",
                 attestation.config_id);
  }
  return CasResponse{.status = 200, .body = to_json(*sealed).dump()};
}

}  // namespace sconectl::cas::server
