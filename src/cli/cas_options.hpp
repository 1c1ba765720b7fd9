#pragma once

// Private to the CLI: the options every command that talks to a CAS shares.

#include "command.hpp"
#include "sconectl/cas/connect.hpp"
#include "sconectl/cas/upload.hpp"

#include <optional>
#include <string>

namespace sconectl::cli {

struct CasOptions {
  std::string address;     // --cas
  std::string cas_key;     // --cas-key
  std::string config_dir;  // --cas-config
  double connect_timeout_seconds = 5;
  double request_timeout_seconds = 30;
  bool new_connection_per_request = false;  // a benchmark baseline, not for normal use
  std::size_t concurrency = cas::k_default_upload_concurrency;  // requests in flight at once
};

// --cas-config and the timeouts; with `with_address` also --cas and --cas-key.
void add_cas_options(CLI::App& command, CasOptions& options, bool with_address);

[[nodiscard]] Result<std::filesystem::path> cas_config_file(const CasOptions& options,
                                                            const Services& services);

[[nodiscard]] cas::Timeouts cas_timeouts(const CasOptions& options);

// Connects as the options say; a pin from the mesh (`mesh_cas_key`) counts like --cas-key.
[[nodiscard]] Result<cas::CasConnection> connect_with(
    const CasOptions& options,
    const Services& services,
    const std::optional<std::string>& address = {},
    const std::optional<std::string>& mesh_cas_key = {});

// For commands that name no CAS of their own (session get/history/create/update): --cas, else
// the CAS that the last `apply -f mesh.yaml` into `target_dir` uploaded to (its record,
// target/cas/sessions.json, with its pin), else the default attested CAS. Says on `services.err`
// which one it chose when it was not given.
[[nodiscard]] Result<cas::CasConnection> connect_for_sessions(
    const CasOptions& options, const Services& services, const std::filesystem::path& target_dir);

// This client's key hash as a CAS sees it (its identity is created on first use).
[[nodiscard]] Result<std::string> own_key_hash(const CasOptions& options, Services& services);

}  // namespace sconectl::cli
