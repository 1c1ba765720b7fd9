#include "sconectl/cas/client.hpp"

#include "sconectl/model/session.hpp"

#include <spdlog/spdlog.h>

#include <thread>

namespace sconectl::cas {

namespace {

std::optional<std::string> optional_string_field(const model::SessionDocument& document,
                                                 const char* key)
{
  const auto found = document.find(key);
  if (found == document.end() || !found->is_string()) {
    return std::nullopt;
  }
  return found->get<std::string>();
}

bool is_retryable(long status)
{
  return status == 500 || status == 502 || status == 503 || status == 504;
}

tl::unexpected<Error> server_error(const std::string& what, const HttpResponse& response)
{
  const auto kind = response.status == 409 ? ErrorKind::conflict : ErrorKind::server;
  return fail(
      kind,
      what + ": HTTP " + std::to_string(response.status) + ": " + error_message(response.body));
}

Result<nlohmann::json> parse_json(const std::string& what, const HttpResponse& response)
{
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded()) {
    return fail(ErrorKind::server, what + ": the CAS answered with something other than JSON");
  }
  return json;
}

}  // namespace

Sleeper real_sleep()
{
  return [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
}

CasClient::CasClient(HttpTransport& transport, RetryPolicy retry, Sleeper sleep)
    : m_transport(transport), m_retry(retry), m_sleep(std::move(sleep))
{
}

Result<HttpResponse> CasClient::send_with_retries(const HttpRequest& request, bool& retried)
{
  auto delay = m_retry.first_delay;
  std::chrono::milliseconds waited{0};
  retried = false;
  while (true) {
    auto response = m_transport.send(request);
    const bool transient =
        response ? is_retryable(response->status) : response.error().kind == ErrorKind::network;
    if (!transient || waited + delay > m_retry.total) {
      return response;
    }
    spdlog::info("{} {}: {}; retrying in {} ms",
                 request.method,
                 request.target,
                 response ? "HTTP " + std::to_string(response->status) : response.error().message,
                 delay.count());
    m_sleep(delay);
    waited += delay;
    delay = std::min(delay * 2, m_retry.max_delay);
    retried = true;
  }
}

Result<std::optional<SessionRecord>> CasClient::get_session(const std::string& name,
                                                            const std::optional<std::string>& hash)
{
  HttpRequest request{.method = "GET",
                      .target = std::string(k_sessions_path) + "/" + name
                                + (hash ? "?hash=" + *hash : std::string())};
  const auto what = "reading session '" + name + "'" + (hash ? " version " + *hash : "");
  bool retried = false;
  auto response = send_with_retries(request, retried);
  if (!response) {
    return forward_error(std::move(response.error()), what);
  }
  if (response->status == 404) {
    return std::optional<SessionRecord>();
  }
  if (response->status != 200) {
    return server_error(what, *response);
  }
  auto json = parse_json(what, *response);
  if (!json) {
    return forward_error(std::move(json.error()));
  }
  auto record = session_record_from_json(*json);
  if (!record) {
    return forward_error(std::move(record.error()), what);
  }
  return std::optional<SessionRecord>(std::move(*record));
}

Result<std::optional<CurrentVersions>> CasClient::current_versions(
    const std::vector<std::string>& names)
{
  CurrentVersions all;
  for (std::size_t start = 0; start < names.size(); start += k_max_current_versions) {
    const auto end = std::min(names.size(), start + k_max_current_versions);
    const nlohmann::json body{
        {"names",
         std::vector<std::string>(names.begin() + static_cast<std::ptrdiff_t>(start),
                                  names.begin() + static_cast<std::ptrdiff_t>(end))}};
    HttpRequest request{.method = "POST",
                        .target = std::string(k_current_versions_path),
                        .content_type = "application/json",
                        .body = body.dump()};
    const std::string what =
        "reading the current versions of " + std::to_string(end - start) + " sessions";
    bool retried = false;
    auto response = send_with_retries(request, retried);
    if (!response) {
      return forward_error(std::move(response.error()), what);
    }
    if (response->status == 404 || response->status == 405) {
      return std::optional<CurrentVersions>();
    }
    if (response->status != 200) {
      return server_error(what, *response);
    }
    auto json = parse_json(what, *response);
    if (!json) {
      return forward_error(std::move(json.error()));
    }
    auto versions = current_versions_from_json(*json);
    if (!versions) {
      return forward_error(std::move(versions.error()), what);
    }
    all.merge(*versions);
  }
  return std::optional<CurrentVersions>(std::move(all));
}

Error upload_refused(const std::string& name,
                     const HttpResponse& response,
                     RefusalProblems problems)
{
  const auto what = "uploading session '" + name + "'";
  auto error = server_error(what, response).value();
  if (response.status == 409) {
    if (const auto current = conflict_current_hash(response.body)) {
      error.message += " (the CAS's current hash is " + *current + ")";
    }
  }
  const auto messages = error_messages(response.body);
  if (problems == RefusalProblems::as_diagnostics && response.status == 400
      && messages.size() > 1) {
    error.message = what + ": HTTP 400: " + messages.front();
    for (std::size_t i = 1; i < messages.size(); ++i) {
      error.diagnostics.push_back(Diagnostic{.severity = Severity::error, .message = messages[i]});
    }
  }
  return error;
}

Result<PostOutcome> CasClient::post_session(const std::string& name, const std::string& yaml)
{
  auto answer = try_post_session(name, yaml);
  if (!answer) {
    return forward_error(std::move(answer.error()));
  }
  if (const auto* refused = std::get_if<HttpResponse>(&*answer)) {
    return tl::unexpected(upload_refused(name, *refused));
  }
  return std::get<PostOutcome>(std::move(*answer));
}

Result<std::variant<PostOutcome, HttpResponse>> CasClient::try_post_session(const std::string& name,
                                                                            const std::string& yaml)
{
  HttpRequest request{.method = "POST",
                      .target = std::string(k_sessions_path),
                      .content_type = std::string(k_session_content_type),
                      .body = yaml};
  const auto what = "uploading session '" + name + "'";
  PostOutcome outcome;
  auto response = send_with_retries(request, outcome.retried);
  if (!response) {
    return forward_error(std::move(response.error()), what);
  }
  if (response->status != 200 && response->status != 201) {
    return std::move(*response);
  }
  auto json = parse_json(what, *response);
  if (!json) {
    return forward_error(std::move(json.error()));
  }
  auto receipt = upload_receipt_from_json(*json);
  if (!receipt) {
    return forward_error(std::move(receipt.error()), what);
  }
  outcome.receipt = std::move(*receipt);
  outcome.created = response->status == 201;
  return outcome;
}

Result<nlohmann::json> CasClient::version()
{
  bool retried = false;
  auto response =
      send_with_retries({.method = "GET", .target = std::string(k_version_path)}, retried);
  if (!response) {
    return forward_error(std::move(response.error()));
  }
  if (response->status != 200) {
    return server_error("reading the CAS version", *response);
  }
  return parse_json("reading the CAS version", *response);
}

// A CAS must return the version asked for, and a document that hashes to the hash it names and
// that itself names the session, the predecessor and the creator the answer claims: the chain is
// then followed through hashed content only, and a CAS cannot splice in another history.
Result<void> verify_session_record(const SessionRecord& record,
                                   const std::string& name,
                                   const std::optional<std::string>& hash)
{
  const auto refuse = [&](const std::string& why) -> Result<void> {
    return fail(ErrorKind::server,
                "the CAS returned session '" + name + "'" + (hash ? " version " + *hash : "")
                    + " with " + why);
  };
  auto parsed = model::parse_session_yaml(record.session);
  if (!parsed) {
    return refuse("content that does not parse");
  }
  if (const auto actual = model::session_hash(*parsed); actual != record.hash) {
    return refuse("the hash " + record.hash + ", but its content hashes to " + actual);
  }
  if (hash && record.hash != *hash) {
    return refuse("another version: " + record.hash);
  }
  if (record.name != name || optional_string_field(*parsed, "name") != name) {
    return refuse("content named '" + optional_string_field(*parsed, "name").value_or("") + "'");
  }
  if (optional_string_field(*parsed, "predecessor") != record.predecessor) {
    return refuse("a predecessor that its content does not name");
  }
  if (const auto creator = optional_string_field(*parsed, "creator");
      creator && *creator != record.creator) {
    return refuse("a creator that its content does not name");
  }
  return {};
}

Result<SessionRecord> read_verified_session(CasClient& client,
                                            const std::string& name,
                                            const std::optional<std::string>& hash)
{
  auto record = client.get_session(name, hash);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  if (!*record) {
    return fail(
        ErrorKind::server,
        "the CAS has no session '" + name + "'" + (hash ? " with hash " + *hash : std::string()));
  }
  TRY(verify_session_record(**record, name, hash));
  return std::move(**record);
}

}  // namespace sconectl::cas
