#pragma once

#include "sconectl/model/enclave_mode.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// The simulated attestation protocol between the simulation runtime and the local CAS
// (docs/attestation.md). There is no SGX: the measurement is computed by the runtime in software
// and reported by itself. The protocol gives freshness (a single-use CAS nonce), binding (the
// request's fields are hashed into one report value, as SGX puts them into a quote's report data)
// and confidentiality of the answer to the requesting process (sealed to its ephemeral key); it
// gives no protection against anyone who can read or change the process or its files.
namespace sconectl::cas {

inline constexpr std::string_view k_attestation_nonce_path = "/v1/attestation/nonce";
inline constexpr std::string_view k_attestation_path = "/v1/attestation";
inline constexpr std::string_view k_attestation_protocol = "sconectl-sim-attestation-v1";

// `GET /v1/attestation/nonce`: a nonce the CAS accepts once, within `expires_in_seconds`.
struct AttestationNonce {
  std::string nonce;  // 64 hex digits
  int expires_in_seconds = 0;
};
[[nodiscard]] nlohmann::json to_json(const AttestationNonce& nonce);
[[nodiscard]] Result<AttestationNonce> attestation_nonce_from_json(const nlohmann::json& json);

// `POST /v1/attestation`.
struct AttestationRequest {
  std::string config_id;    // "<session>/<service>"
  std::string measurement;  // 64 hex digits, docs/measurement.md
  std::string nonce;        // from the nonce endpoint
  std::string public_key;   // the runtime's ephemeral X25519 public key, 64 hex digits
  std::string report_data;  // report_data_of(the four above), 64 hex digits
  // SCONE_SERVICE_ACCESS_TOKEN of the starting service, for a session that sets
  // security.service_access_token (empty: none given). Sent inside the pinned TLS channel.
  std::string service_access_token;
};
[[nodiscard]] nlohmann::json to_json(const AttestationRequest& request);
// Refuses (ErrorKind::manifest, naming the field) anything but the five fields, well formed, and
// the optional service_access_token.
[[nodiscard]] Result<AttestationRequest> attestation_request_from_json(const nlohmann::json& json);

// SHA-256 (hex) over the protocol name and the four fields, each on its own line.
[[nodiscard]] std::string report_data_of(const AttestationRequest& request);

// What the program runs with, as the CAS resolved it from the session.
struct InjectionFileContent {
  std::string path;
  std::string content;
  unsigned mode = 0600;  // the file's `permission`; without one, readable by the program only
};
struct ProgramConfiguration {
  std::vector<std::string> command;                // "@@N" entries stand for host argument N
  std::map<std::string, std::string> environment;  // resolved values
  // Names of variables the session lets through from the host environment ("\@\@NAME" keys).
  std::vector<std::string> host_environment;
  std::string pwd;
  std::vector<InjectionFileContent> injection_files;
  bool attestation_checked = true;  // false for a session with `attestation: mode: none`
};
[[nodiscard]] nlohmann::json to_json(const ProgramConfiguration& configuration);
[[nodiscard]] Result<ProgramConfiguration> program_configuration_from_json(
    const nlohmann::json& json);

// An ephemeral X25519 key pair.
struct EphemeralKey {
  std::vector<std::uint8_t> private_key;  // 32 bytes
  std::string public_key;                 // 64 hex digits
};
[[nodiscard]] Result<EphemeralKey> generate_ephemeral_key();

// The CAS's answer (200): the configuration, sealed to the request's public key with X25519,
// HKDF-SHA256 (salt: the report data) and AES-256-GCM.
struct SealedConfiguration {
  std::string server_public_key;  // the CAS's ephemeral X25519 key for this answer, hex
  std::string iv;                 // 12 bytes, hex
  std::string ciphertext;         // AES-256-GCM output followed by its 16-byte tag, hex
};
[[nodiscard]] nlohmann::json to_json(const SealedConfiguration& sealed);
[[nodiscard]] Result<SealedConfiguration> sealed_configuration_from_json(
    const nlohmann::json& json);

[[nodiscard]] Result<SealedConfiguration> seal_configuration(const AttestationRequest& request,
                                                             std::string_view plaintext);
[[nodiscard]] Result<std::string> open_configuration(const AttestationRequest& request,
                                                     const EphemeralKey& key,
                                                     const SealedConfiguration& sealed);

}  // namespace sconectl::cas
