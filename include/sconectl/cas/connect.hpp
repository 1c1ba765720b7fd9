#pragma once

#include "sconectl/cas/client_config.hpp"
#include "sconectl/cas/transport.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sconectl::cas {

// Makes the transport for a connection: CurlTransport::create by default; tests pass one that
// answers from an in-memory CAS, so everything above the transport runs as in production.
using TransportFactory =
    std::function<Result<std::unique_ptr<HttpTransport>>(CurlTransportOptions options)>;

[[nodiscard]] TransportFactory curl_transport_factory();

// A mutually authenticated connection to one CAS, as every command that talks to a CAS needs it.
struct CasConnection {
  CasAddress address;
  std::unique_ptr<HttpTransport> transport;
  std::string own_key_hash;  // this client's identity as the CAS sees it
  TrustMode trust = TrustMode::pinned_key;
  std::optional<std::string> pinned_key;  // the key hash the CAS is pinned to, when it is
  // Opens one more connection to the same CAS, trusted the same way (for concurrent requests).
  std::function<Result<std::unique_ptr<HttpTransport>>()> another_transport;
};

struct ConnectOptions {
  std::string address;                 // host[:port]; empty: the configuration's default CAS
  std::optional<std::string> cas_key;  // a pin that overrides the attested one (mesh cas_key)
  std::filesystem::path config_file;
  Timeouts timeouts;
  bool reuse_connection = true;
  TransportFactory make_transport = curl_transport_factory();
};

// Loads (creating on first use) the client identity and picks how to trust the CAS: the given
// pin, else what `sconectl cas attest` recorded for that address. A CAS that is neither pinned nor
// attested is refused with the command that fixes it.
[[nodiscard]] Result<CasConnection> connect_to_cas(const ConnectOptions& options);

struct AttestOptions {
  std::string address;
  std::optional<std::string> cas_key;  // pin: the key hash the user got from the CAS operator
  std::optional<std::string> ca_pem;   // or: a CA that must have issued the CAS certificate
  bool trust_any = false;              // or: nothing (--only-for-testing-trust-any)
  bool make_default = false;
  Timeouts timeouts;
};

struct AttestResult {
  std::string authority;  // host:port, the key in cas_db
  std::string cas_key;    // key hash of the certificate the CAS presented
  TrustMode trust = TrustMode::pinned_key;
  bool is_default = false;
  nlohmann::json version;
};

// Connects to a CAS, checks its certificate as the options say (a wrong key is refused and both
// hashes named), and records it in config.json: its chain, key hash and trust mode. The first CAS
// recorded becomes the default.
[[nodiscard]] Result<AttestResult> attest_cas(const AttestOptions& options,
                                              const std::filesystem::path& config_file);

// The certificate chain (PEM, leaf first) that a CAS presented when `cas attest` recorded it: the
// CAS at `address`, or the default CAS when `address` is empty. It verifies that CAS's TLS
// certificate, as `scone cas show-certificate` prints it for `curl --cacert`.
[[nodiscard]] Result<std::string> attested_certificate(const std::filesystem::path& config_file,
                                                       const std::string& address);

}  // namespace sconectl::cas
