#pragma once

#include "sconectl/cas/identity.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

// The CAS client state in config.json, in the layout of the scone CLI's ~/.cas/config.json so
// users find their files where they expect: "identity" (PKCS#8 key followed by the certificate),
// "default_cas", and "cas_db" with one entry per attested CAS.
namespace sconectl::cas {

// How a CAS was trusted when it was attested, and so how every later connection checks it.
enum class TrustMode {
  pinned_key,  // the leaf certificate's public key must hash to `cas_key`
  ca,          // the chain must verify against `ca` and the host name must match
  any,         // nothing is checked (--only-for-testing-trust-any)
};

[[nodiscard]] const char* to_string(TrustMode mode);

struct AttestedCas {
  std::string url;    // https://host:port/
  std::string chain;  // PEM chain the CAS presented when attested
  std::string cas_key;
  TrustMode trust = TrustMode::pinned_key;
  std::string ca;  // PEM, for TrustMode::ca
};

struct ClientConfig {
  std::optional<std::string> default_cas;
  std::string identity;                       // PEM key + certificate; empty until created
  std::map<std::string, AttestedCas> cas_db;  // keyed by "host:port"
  // Fields this version does not know, kept as they were so that writing does not lose them.
  nlohmann::json other = nlohmann::json::object();
};

// Where config.json lives: --cas-config DIR, else $SCONECTL_CAS_CONFIG (a directory), else
// $SCONE_CLI_CONFIG (the file itself, as the scone CLI reads it), else ~/.cas/config.json.
[[nodiscard]] Result<std::filesystem::path> config_file_path(
    const std::optional<std::filesystem::path>& option,
    const manifest::VariableLookup& environment);

// Reads config.json; a missing file is an empty configuration.
[[nodiscard]] Result<ClientConfig> load_client_config(const std::filesystem::path& file);

// Writes config.json atomically, mode 0600, its directory 0700 (it holds the private key).
[[nodiscard]] Result<void> save_client_config(const std::filesystem::path& file,
                                              const ClientConfig& config);

// Loads the configuration and, when it has no identity yet, creates one (P-256, self-signed) and
// saves it, holding a lock so two concurrent first runs end with one identity.
[[nodiscard]] Result<ClientConfig> load_or_create_identity(const std::filesystem::path& file);

// Reads, changes and writes config.json under the same lock.
[[nodiscard]] Result<ClientConfig> update_client_config(
    const std::filesystem::path& file, const std::function<Result<void>(ClientConfig&)>& change);

}  // namespace sconectl::cas
