#pragma once

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/transport.hpp"
#include "sconectl/util/error.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sconectl::cas {

// Connection failures and 5xx answers are retried with doubling delays until `total` has passed;
// 4xx answers and TLS failures never are.
struct RetryPolicy {
  std::chrono::milliseconds first_delay{200};
  std::chrono::milliseconds max_delay{3000};
  std::chrono::milliseconds total{30000};
};

using Sleeper = std::function<void(std::chrono::milliseconds)>;
[[nodiscard]] Sleeper real_sleep();

struct PostOutcome {
  UploadReceipt receipt;
  bool created = false;  // 201, else an update (200)
  bool retried = false;  // sent more than once: an earlier attempt may have been applied
};

// How upload_refused reports the problems a CAS named when it refused a session (400, "session
// 'x' is not valid" followed by one message per problem, each "PATH: what").
enum class RefusalProblems {
  in_message,      // one per line in the error's message
  as_diagnostics,  // one diagnostic each, without file or position, its message the problem whole
};

// The error for an upload that the CAS answered with neither 200 nor 201: "uploading session
// 'x': HTTP <status>: <what it said>", kind `conflict` for 409 (naming the CAS's current hash).
[[nodiscard]] Error upload_refused(const std::string& name,
                                   const HttpResponse& response,
                                   RefusalProblems problems = RefusalProblems::in_message);

// The session endpoints of a CAS, over one transport (one connection).
class CasClient {
 public:
  CasClient(HttpTransport& transport, RetryPolicy retry = {}, Sleeper sleep = real_sleep());

  // The current version, or the version with `hash`; std::nullopt when the CAS has no such session.
  [[nodiscard]] Result<std::optional<SessionRecord>> get_session(
      const std::string& name, const std::optional<std::string>& hash = std::nullopt);

  // Uploads session YAML. A predecessor conflict (409) is an Error of kind `conflict` whose
  // message names both hashes; it is never retried.
  [[nodiscard]] Result<PostOutcome> post_session(const std::string& name, const std::string& yaml);
  // The same, with an answer other than 200 or 201 returned as received rather than as an error,
  // for callers that show a refusal their own way (upload_refused).
  [[nodiscard]] Result<std::variant<PostOutcome, HttpResponse>> try_post_session(
      const std::string& name, const std::string& yaml);

  // The current versions of `names` in one request per 10,000 (POST /v1/session-versions);
  // std::nullopt when the CAS does not offer that (SCONE's CAS: one GET per session instead).
  [[nodiscard]] Result<std::optional<CurrentVersions>> current_versions(
      const std::vector<std::string>& names);

  // GET /v1/version: the CAS's self-description.
  [[nodiscard]] Result<nlohmann::json> version();

 private:
  Result<HttpResponse> send_with_retries(const HttpRequest& request, bool& retried);

  HttpTransport& m_transport;
  RetryPolicy m_retry;
  Sleeper m_sleep;
};

// Checks an answer to "GET session `name` [version `hash`]": the version asked for, content that
// hashes to the hash the CAS names, and content that itself names the session, the predecessor
// and the creator the answer claims. A chain followed through verified records is then one the
// CAS cannot splice together from other histories.
[[nodiscard]] Result<void> verify_session_record(const SessionRecord& record,
                                                 const std::string& name,
                                                 const std::optional<std::string>& hash);

// get_session, then verify_session_record; a missing session or version is an error.
[[nodiscard]] Result<SessionRecord> read_verified_session(CasClient& client,
                                                          const std::string& name,
                                                          const std::optional<std::string>& hash);

}  // namespace sconectl::cas
