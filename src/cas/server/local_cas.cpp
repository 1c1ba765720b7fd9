// The local CAS's rules, in one place (the API itself is described in docs/cas.md):
//
// * Identity: every request to /v1/sessions needs a TLS client certificate; the client is its
//   key hash (cas/key_hash.hpp). /v1/values and /v1/version are public.
// * Create: POST a session without `predecessor`. The name must be new (else 409 with the current
//   hash). A top-level session may be created by any client; "a/b/c" needs the namespace session
//   "a/b" (404 without it) and the client must pass its access_policy.create_sessions (default:
//   its update list, default [CREATOR], CREATOR being the namespace's creator).
// * Update: POST with `predecessor` equal to the current hash (else 409 with the current hash);
//   the client must pass the current version's access_policy.update (default [CREATOR]).
// * Read: the current version's access_policy.read (default [CREATOR]); ?hash= reads an older
//   version of the same name. History is never deleted.
// * Access lists hold CREATOR, ANY, NONE (alone), key hashes, PEM certificates or
//   `$$SCONE::name$$` naming a certificate secret; anything else (signers, governance rules) is
//   refused at upload with 400. The whole access_policy may be `$$SCONE::name$$` naming a
//   config-fragment secret, resolved at every check (access.hpp).
// * Stored: the uploaded document plus `creator` (the key hash of whoever created the session;
//   kept on updates) and the uploaded `predecessor`; its hash is model::session_hash of that.
//   Each upload is answered only after it committed; uploads that arrive together share one
//   SQLite transaction (each in its own savepoint, so a refused one is undone alone).
// * Secrets without `value` or `import` are generated in that transaction (secret_generation.hpp)
//   and never returned, except those marked export_public, through /v1/values: ascii as is,
//   binary as hex, private keys as their public key, certificates as PEM. On an update, ascii
//   and binary values are kept while their size stays (a new size rolls them), private keys only
//   with `migrate: true` in both versions (same key type), certificates are issued anew; only the
//   current version's values are kept.
#include "request_handler.hpp"
#include "sconectl/cas/api.hpp"
#include "sconectl/cas/attestation.hpp"
#include "sconectl/version.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace sconectl::cas::server {

namespace {

bool is_read_method(const std::string& method)
{
  return method == "GET" || method == "HEAD";
}

// What each path answers to each method (docs/cas.md, "HTTP methods"): a path that reads answers
// GET, and HEAD as GET without a body; one that takes a body answers POST; any other method is 405
// with the methods the path accepts in Allow. /v1/values answers GET only: SCONE's CAS answers
// HEAD on a value with 405, with or without a client certificate, and Scontain's exercises check
// that, so HEAD is 405 there for every value, public or not, and tells nothing about which exist.
CasResponse method_not_allowed(const std::string& method, const char* allowed)
{
  auto response = error_response(
      405, {"method " + method.substr(0, 20) + " is not allowed here; use " + allowed});
  response.allow = allowed;
  return response;
}

CasResponse version_response()
{
  return CasResponse{.status = 200,
                     .body = nlohmann::json{{"version", k_version}, {"api", "v1"}}.dump()};
}

int hex_digit(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

CasResponse error_response(int status,
                           std::vector<std::string> messages,
                           const std::optional<std::string>& current)
{
  return CasResponse{.status = status, .body = error_body(messages, current)};
}

std::optional<std::string> decode_path_part(std::string_view text)
{
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    const int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    const auto c = static_cast<char>(high * 16 + low);
    if (c == '/' || c == '\0') {
      return std::nullopt;
    }
    decoded.push_back(c);
    i += 2;
  }
  return decoded;
}

Result<std::unique_ptr<RequestHandler>> RequestHandler::open(const std::filesystem::path& database,
                                                             const LocalCasOptions& options)
{
  auto store = Store::open(database);
  if (!store) {
    return forward_error(std::move(store.error()));
  }
  try {
    return std::unique_ptr<RequestHandler>(
        new RequestHandler(std::move(*store), database, options));
  } catch (const std::exception& error) {
    return fail(ErrorKind::internal, std::string("cannot start the local CAS: ") + error.what());
  }
}

CasResponse RequestHandler::handle(const CasRequest& request) noexcept
{
  try {
    return dispatch(request);
  } catch (const std::exception& error) {
    spdlog::error(
        "local CAS: {} {}: {}", request.method, request.path.substr(0, 200), error.what());
  } catch (...) {
    spdlog::error(
        "local CAS: {} {}: unknown exception", request.method, request.path.substr(0, 200));
  }
  try {
    return error_response(500, {"internal error of the local CAS; see its log"});
  } catch (...) {
    return CasResponse{.status = 500, .body = R"({"msg":["internal error"]})"};
  }
}

CasResponse RequestHandler::dispatch(const CasRequest& request)
{
  const std::string sessions_prefix = std::string(k_sessions_path) + "/";
  if (request.path == k_version_path) {
    return is_read_method(request.method) ? version_response()
                                          : method_not_allowed(request.method, "GET, HEAD");
  }
  if (request.path == k_attestation_nonce_path) {
    return is_read_method(request.method) ? attestation_nonce()
                                          : method_not_allowed(request.method, "GET, HEAD");
  }
  if (request.path == k_attestation_path) {
    return request.method == "POST" ? attest(request) : method_not_allowed(request.method, "POST");
  }
  if (request.path == k_current_versions_path && m_batch_reads) {
    return request.method == "POST" ? read_current_versions(request)
                                    : method_not_allowed(request.method, "POST");
  }
  if (request.path == k_sessions_path) {
    return request.method == "POST" ? upload(request) : method_not_allowed(request.method, "POST");
  }
  if (request.path.starts_with(sessions_prefix)) {
    return is_read_method(request.method)
               ? read_session(request, request.path.substr(sessions_prefix.size()))
               : method_not_allowed(request.method, "GET, HEAD");
  }
  if (request.path.starts_with(k_values_path)) {
    return request.method == "GET" ? read_values(request.path.substr(k_values_path.size()))
                                   : method_not_allowed(request.method, "GET");
  }
  return error_response(404,
                        {"no such endpoint; this CAS serves " + std::string(k_sessions_path) + ", "
                         + std::string(k_values_path) + ", " + std::string(k_attestation_path)
                         + " and " + std::string(k_version_path)});
}

}  // namespace sconectl::cas::server
