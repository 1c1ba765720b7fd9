#include "access.hpp"
#include "request_handler.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/manifest/names.hpp"
#include "stored_secrets.hpp"

#include <variant>

namespace sconectl::cas::server {

namespace {

constexpr std::size_t k_hash_length = 64;

std::string json_text(const nlohmann::json& json)
{
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

CasResponse store_read_failure(const Error& error)
{
  return error_response(500, {"the local CAS cannot read its session store", error.message});
}

// The `hash` parameter of a query (std::nullopt without one), or a 400 response.
std::variant<std::optional<std::string>, CasResponse> requested_hash(std::string_view query)
{
  std::optional<std::string> hash;
  while (!query.empty()) {
    const auto end = query.find('&');
    const auto parameter = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    if (!parameter.starts_with("hash=")) {
      continue;
    }
    const auto value = std::string(parameter.substr(5));
    if (hash || !manifest::is_hex(value, k_hash_length)) {
      return error_response(400,
                            {"hash must be given once, as the 64 hex digit hash of a version"});
    }
    hash = value;
  }
  return hash;
}

}  // namespace

CasResponse RequestHandler::read_session(const CasRequest& request, const std::string& encoded_name)
{
  if (!request.requester) {
    return error_response(401, {"reading a session needs a client certificate"});
  }
  const auto name = decode_path_part(encoded_name);
  if (!name) {
    return error_response(400, {"malformed session name in the request path"});
  }
  if (const auto rule = manifest::check_session_name(*name); !rule.empty()) {
    return error_response(
        400, {"'" + name->substr(0, 200) + "' is not a session name; expected " + rule});
  }
  auto hash = requested_hash(request.query);
  if (auto* refused = std::get_if<CasResponse>(&hash)) {
    return *refused;
  }
  const auto& wanted = std::get<std::optional<std::string>>(hash);

  auto snapshot = m_readers.snapshot();
  if (!snapshot) {
    return store_read_failure(snapshot.error());
  }
  Store& store = snapshot->store();
  auto current = store.current(*name);
  if (!current) {
    return store_read_failure(current.error());
  }
  if (!*current) {
    return error_response(404, {"session '" + *name + "' does not exist"});
  }
  if (!is_permitted((*current)->document,
                    Operation::read,
                    *request.requester,
                    stored_secret_text(store, *name))) {
    return error_response(403,
                          {"session '" + *name + "': access_policy.read does not admit client "
                           + *request.requester});
  }
  auto version = wanted ? store.version(*name, *wanted) : std::move(current);
  if (!version) {
    return store_read_failure(version.error());
  }
  if (!*version) {
    return error_response(404, {"session '" + *name + "' has no version " + *wanted});
  }
  const auto& found = **version;
  return CasResponse{.status = 200,
                     .body = json_text(to_json(SessionRecord{.name = found.name,
                                                             .hash = found.hash,
                                                             .predecessor = found.predecessor,
                                                             .creator = found.creator,
                                                             .session = found.yaml}))};
}

// One request for the current versions of many sessions, so that a client checking which of its
// sessions changed needs no round trip per session. Each name is answered as a GET of it would
// be: a session the requester may not read is left out (the client's GET then gets the 403).
CasResponse RequestHandler::read_current_versions(const CasRequest& request)
{
  if (!request.requester) {
    return error_response(401, {"reading sessions needs a client certificate"});
  }
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("names") || !body.at("names").is_array()
      || body.at("names").size() > k_max_current_versions) {
    return error_response(400,
                          {"expected {\"names\": [...]} with at most "
                           + std::to_string(k_max_current_versions) + " session names"});
  }
  std::vector<std::string> names;
  for (const auto& name : body.at("names")) {
    if (!name.is_string() || !manifest::check_session_name(name.get<std::string>()).empty()) {
      return error_response(400, {"names: every entry must be a session name"});
    }
    names.push_back(name.get<std::string>());
  }
  CurrentVersions versions;
  auto snapshot = m_readers.snapshot();
  if (!snapshot) {
    return store_read_failure(snapshot.error());
  }
  Store& store = snapshot->store();
  for (const auto& name : names) {
    auto current = store.current(name);
    if (!current) {
      return store_read_failure(current.error());
    }
    if (!*current) {
      versions[name] = std::nullopt;
      continue;
    }
    const auto& found = **current;
    if (is_permitted(
            found.document, Operation::read, *request.requester, stored_secret_text(store, name))) {
      versions[name] = CurrentVersion{
          .hash = found.hash, .predecessor = found.predecessor, .creator = found.creator};
    }
  }
  return CasResponse{.status = 200, .body = json_text(to_json(versions))};
}

CasResponse RequestHandler::read_values(const std::string& encoded_selector)
{
  const auto selector = decode_path_part(encoded_selector);
  const auto comma = selector ? selector->find(',') : std::string::npos;
  const auto session_part = selector ? selector->substr(0, comma) : std::string();
  const auto secret_part = comma == std::string::npos ? std::string() : selector->substr(comma + 1);
  if (!session_part.starts_with("session=")
      || (comma != std::string::npos && !secret_part.starts_with("secret="))) {
    return error_response(400, {"expected /v1/values/session=<session>[,secret=<secret>]"});
  }
  const auto session = session_part.substr(8);
  if (const auto rule = manifest::check_session_name(session); !rule.empty()) {
    return error_response(
        400, {"'" + session.substr(0, 200) + "' is not a session name; expected " + rule});
  }
  const auto secret = comma == std::string::npos ? std::optional<std::string>()
                                                 : std::optional(secret_part.substr(7));

  auto snapshot = m_readers.snapshot();
  if (!snapshot) {
    return store_read_failure(snapshot.error());
  }
  Store& store = snapshot->store();
  auto current = store.current(session);
  if (!current) {
    return store_read_failure(current.error());
  }
  // The caller presents nothing, so a missing session, a missing secret and one that is not
  // public get one answer (docs/security.md): the single value is refused, the list is empty.
  const auto not_public = [&session](const std::string& name) {
    return error_response(403,
                          {"Failed to read value '" + name.substr(0, 128) + "' of session '"
                               + session + "' requested by a public client",
                           "no secret of that name is marked export_public"});
  };
  if (!*current) {
    return secret ? not_public(*secret)
                  : CasResponse{.status = 200,
                                .body = json_text({{"values", nlohmann::json::object()}})};
  }
  auto values = store.secrets(session);
  if (!values) {
    return store_read_failure(values.error());
  }
  const auto& document = (*current)->document;
  const auto is_public = [&](const nlohmann::ordered_json& definition) {
    return definition.contains("export_public") && definition.at("export_public").is_boolean()
           && definition.at("export_public").get<bool>();
  };
  nlohmann::json all = nlohmann::json::object();
  const auto& secrets =
      document.contains("secrets") ? document.at("secrets") : nlohmann::ordered_json::array();
  for (const auto& definition : secrets) {
    const auto name = definition.is_object() ? definition.value("name", std::string()) : "";
    if (name.empty() || (secret && name != *secret)) {
      continue;
    }
    if (secret && !is_public(definition)) {
      return not_public(name);
    }
    auto text = is_public(definition) ? public_value_text(document, name, *values)
                                      : Result<std::optional<std::string>>();
    if (!text) {
      return error_response(500, {"cannot render secret '" + name + "'", text.error().message});
    }
    if (!*text) {
      continue;
    }
    if (secret) {
      return CasResponse{
          .status = 200,
          .body = json_text(
              {{"kind", "string"}, {"value", **text}, {"expires", nullptr}, {"renew", nullptr}})};
    }
    all[name] = {{"kind", "string"}, {"value", **text}};
  }
  if (secret) {
    return not_public(*secret);
  }
  return CasResponse{.status = 200, .body = json_text({{"values", all}})};
}

}  // namespace sconectl::cas::server
