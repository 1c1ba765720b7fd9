#pragma once

// Private to the local CAS: the API of docs/cas.md without HTTP, so it can be tested directly.

#include "group_commit.hpp"
#include "nonces.hpp"
#include "reader_pool.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::cas::server {

struct CasRequest {
  // Key hash of the client certificate; std::nullopt when the client presented none.
  std::optional<std::string> requester;
  std::string method;
  std::string path;   // as sent, still percent-encoded, without the query
  std::string query;  // after '?', as sent
  std::string content_type;
  std::string body;
};

struct CasResponse {
  int status = 200;
  std::string body;                  // JSON
  std::optional<std::string> allow;  // for 405: the methods the path accepts
};

// Answers CAS API requests from a session store. Thread-safe: reads run side by side, each on its
// own snapshot; uploads go through one writer that commits those arriving together at once.
// Never throws: a failure inside becomes a 500 with a JSON error body.
class RequestHandler {
 public:
  [[nodiscard]] static Result<std::unique_ptr<RequestHandler>> open(
      const std::filesystem::path& database, const LocalCasOptions& options = {});

  [[nodiscard]] CasResponse handle(const CasRequest& request) noexcept;

 private:
  RequestHandler(std::unique_ptr<Store> writer,
                 const std::filesystem::path& database,
                 const LocalCasOptions& options)
      : m_writes(std::move(writer)),
        m_readers(database),
        m_batch_reads(options.batch_reads),
        m_allow_simulation_without_token(options.allow_simulation_without_token),
        m_nonces(options.nonce_lifetime, options.max_used_nonces)
  {
  }

  CasResponse dispatch(const CasRequest& request);
  CasResponse upload(const CasRequest& request);
  CasResponse read_session(const CasRequest& request, const std::string& encoded_name);
  CasResponse read_current_versions(const CasRequest& request);
  CasResponse read_values(const std::string& encoded_selector);
  CasResponse attestation_nonce();
  CasResponse attest(const CasRequest& request);

  GroupCommit m_writes;
  ReaderPool m_readers;
  bool m_batch_reads = true;
  bool m_allow_simulation_without_token = false;
  NonceStore m_nonces;
};

// A JSON error body (cas::error_body) with its status.
[[nodiscard]] CasResponse error_response(int status,
                                         std::vector<std::string> messages,
                                         const std::optional<std::string>& current = std::nullopt);

// Decodes %XX escapes of a session name or selector from a request path. std::nullopt for a
// malformed escape or one that hides a '/' (names never need escaping, so this is a trick).
[[nodiscard]] std::optional<std::string> decode_path_part(std::string_view text);

}  // namespace sconectl::cas::server
