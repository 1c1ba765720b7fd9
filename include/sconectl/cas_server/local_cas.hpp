#pragma once

#include "sconectl/util/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

// `sconectl cas serve`: a CAS for development and tests, speaking the API of docs/cas.md over
// mutual TLS, storing sessions durably in SQLite. It configures only programs on the simulation
// runtime (no SGX: docs/attestation.md), for sessions that tolerate `simulation`.
namespace sconectl::cas {

struct LocalCasOptions {
  std::string listen = "127.0.0.1:8081";  // host:port; port 0 picks a free one
  std::filesystem::path data_dir;         // identity.pem, cas.crt, cas.db; created 0700
  // Largest request body, counted after de-chunking; compressed bodies are refused.
  std::size_t max_body_bytes = 1024 * 1024;
  // How long a client may take for its TLS handshake, then as long again for a request's header
  // fields, and then for the request's body; a slower client is disconnected (docs/security.md,
  // "Limits").
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // Open connections in all, and from one client address.
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_source = 256;
  // An attestation nonce is accepted once, within this time of its issue; used nonces are
  // remembered until they expire, at most this many (then the oldest is forgotten and every nonce
  // issued no later than it is refused).
  std::chrono::seconds nonce_lifetime{60};
  std::size_t max_used_nonces = 100000;
  std::vector<std::string> extra_names;  // more DNS names / IPs for the certificate
  // Answer POST /v1/session-versions (a batch read that SCONE's CAS does not have); off, clients
  // fall back to a GET per session, as against SCONE's CAS (for tests and benchmarks).
  bool batch_reads = true;
  // Configure a simulated program (attestation mode other than `none`) of a session without
  // security.service_access_token. Insecure: the measurement is self-reported, so anyone who can
  // reach the CAS and knows the session's name gets its secrets (docs/security.md).
  bool allow_simulation_without_token = false;
};

// Creates the data directory and the CAS identity on first start, listens, prints
//   CAS_ADDR=<host:port actually bound>
//   CAS_KEY=<key hash of the CAS certificate>
//   CAS_CERT=<path of the PEM certificate>
// to `out` (a script can `source` them) and serves until SIGINT or SIGTERM.
[[nodiscard]] Result<void> serve_local_cas(const LocalCasOptions& options, std::ostream& out);

// What the local CAS would refuse in `session` beyond the language checks every CAS makes: keys
// that session language 0.3 does not have (`unknown`, most likely typos) and constructs that it
// does not honour (`unsupported`), one message each naming the key (docs/cas.md, "Session language
// in the local CAS"). `sconectl session check` reports both without a CAS.
struct LocalCasSupport {
  std::vector<std::string> unknown;
  std::vector<std::string> unsupported;
};
[[nodiscard]] LocalCasSupport local_cas_support(const nlohmann::ordered_json& session);

// What clients need to reach a started local CAS (the values serve_local_cas prints).
struct LocalCasEndpoint {
  std::string address;                // host:port actually bound, IPv6 in brackets
  std::string key_hash;               // of the CAS certificate
  std::filesystem::path certificate;  // absolute path of cas.crt
};

// serve_local_cas in parts, for embedding it (tests run serve() on a thread, then stop()).
class LocalCasServer {
 public:
  // Prepares the data directory and the identity, opens the store and binds the port.
  [[nodiscard]] static Result<std::unique_ptr<LocalCasServer>> start(
      const LocalCasOptions& options);
  LocalCasServer(const LocalCasServer&) = delete;
  LocalCasServer& operator=(const LocalCasServer&) = delete;
  // Stops serving; destroy it only after serve() has returned.
  ~LocalCasServer();

  [[nodiscard]] const LocalCasEndpoint& endpoint() const;
  // Accepts connections until stop(); an error only when the server cannot run.
  [[nodiscard]] Result<void> serve();
  // Thread-safe, and may come before serve(), which then returns at once.
  void stop();

 private:
  struct State;
  explicit LocalCasServer(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace sconectl::cas
