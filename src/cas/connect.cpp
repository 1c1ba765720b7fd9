#include "sconectl/cas/connect.hpp"

#include "sconectl/cas/client.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/util/x509.hpp"

#include <spdlog/spdlog.h>

namespace sconectl::cas {

namespace {

std::string attest_hint(const std::string& address)
{
  return "run `sconectl cas attest " + address
         + " --cas-key <key hash>` (the CAS prints it as CAS_KEY), or give cas_key in the mesh";
}

Result<PeerTrust> trust_from(const ConnectOptions& options,
                             const ClientConfig& config,
                             const CasAddress& address)
{
  if (options.cas_key) {
    if (const auto problem = key_hash_problem(*options.cas_key); !problem.empty()) {
      return fail(ErrorKind::usage, "cas_key '" + options.cas_key->substr(0, 60) + "': " + problem);
    }
    return PeerTrust{.mode = TrustMode::pinned_key, .cas_key = *options.cas_key};
  }
  const auto found = config.cas_db.find(address.authority());
  if (found == config.cas_db.end()) {
    return fail(ErrorKind::usage,
                "the CAS at " + address.authority()
                    + " is not attested: " + attest_hint(address.authority()));
  }
  const auto& attested = found->second;
  return PeerTrust{.mode = attested.trust, .cas_key = attested.cas_key, .ca_pem = attested.ca};
}

}  // namespace

TransportFactory curl_transport_factory()
{
  return [](CurlTransportOptions options) -> Result<std::unique_ptr<HttpTransport>> {
    auto transport = CurlTransport::create(std::move(options));
    if (!transport) {
      return forward_error(std::move(transport.error()));
    }
    return std::unique_ptr<HttpTransport>(std::move(*transport));
  };
}

Result<CasConnection> connect_to_cas(const ConnectOptions& options)
{
  auto config = load_or_create_identity(options.config_file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  auto address_text = options.address;
  if (address_text.empty()) {
    if (!config->default_cas) {
      return fail(ErrorKind::usage,
                  "no CAS given and none attested as the default: pass --cas, "
                  "or "
                      + attest_hint("<address>"));
    }
    address_text = *config->default_cas;
  }
  auto address = parse_cas_address(address_text);
  if (!address) {
    return forward_error(std::move(address.error()));
  }
  auto trust = trust_from(options, *config, *address);
  if (!trust) {
    return forward_error(std::move(trust.error()));
  }
  auto identity = parse_identity(config->identity);
  if (!identity) {
    return forward_error(std::move(identity.error()), options.config_file.string());
  }
  auto own_key_hash = key_hash_of_certificate(identity->certificate_pem);
  if (!own_key_hash) {
    return forward_error(std::move(own_key_hash.error()));
  }
  const auto mode = trust->mode;
  auto pinned_key =
      mode == TrustMode::pinned_key ? std::optional<std::string>(trust->cas_key) : std::nullopt;
  if (!options.make_transport) {
    return fail(ErrorKind::internal, "no transport factory to reach the CAS with");
  }
  const CurlTransportOptions transport_options{.address = *address,
                                               .trust = std::move(*trust),
                                               .client_identity = std::move(*identity),
                                               .timeouts = options.timeouts,
                                               .reuse_connection = options.reuse_connection};
  auto transport = options.make_transport(transport_options);
  if (!transport) {
    return forward_error(std::move(transport.error()));
  }
  return CasConnection{.address = *address,
                       .transport = std::move(*transport),
                       .own_key_hash = std::move(*own_key_hash),
                       .trust = mode,
                       .pinned_key = std::move(pinned_key),
                       .another_transport = [make = options.make_transport, transport_options] {
                         return make(transport_options);
                       }};
}

Result<AttestResult> attest_cas(const AttestOptions& options,
                                const std::filesystem::path& config_file)
{
  const int choices =
      (options.cas_key ? 1 : 0) + (options.ca_pem ? 1 : 0) + (options.trust_any ? 1 : 0);
  if (choices != 1) {
    return fail(ErrorKind::usage,
                "say how to trust the CAS: --cas-key <key hash>, --ca-file <PEM>, or (for tests "
                "only) --only-for-testing-trust-any");
  }
  if (options.cas_key) {
    if (const auto problem = key_hash_problem(*options.cas_key); !problem.empty()) {
      return fail(ErrorKind::usage,
                  "--cas-key '" + options.cas_key->substr(0, 60) + "': " + problem);
    }
  }
  auto address = parse_cas_address(options.address);
  if (!address) {
    return forward_error(std::move(address.error()));
  }
  auto chain = fetch_presented_chain(*address, options.timeouts);
  if (!chain) {
    return forward_error(std::move(chain.error()));
  }
  auto presented = key_hash_of_certificate(*chain);
  if (!presented) {
    return forward_error(std::move(presented.error()), "the CAS's certificate");
  }
  PeerTrust trust;
  if (options.cas_key) {
    if (*presented != *options.cas_key) {
      return fail(ErrorKind::tls,
                  "the CAS at " + address->authority() + " presents the key " + *presented
                      + ", not the expected " + *options.cas_key + "; it was not recorded");
    }
    trust = PeerTrust{.mode = TrustMode::pinned_key, .cas_key = *options.cas_key};
  } else if (options.ca_pem) {
    if (auto anchors = x509::split_certificates(*options.ca_pem); !anchors) {
      return fail(ErrorKind::usage, "--ca-file: " + anchors.error().message);
    }
    trust = PeerTrust{.mode = TrustMode::ca, .cas_key = *presented, .ca_pem = *options.ca_pem};
  } else {
    trust = PeerTrust{.mode = TrustMode::any, .cas_key = *presented};
  }
  // Talk to it the way every later command will: this also proves the CA path and the pin.
  auto transport = CurlTransport::create(
      CurlTransportOptions{.address = *address, .trust = trust, .timeouts = options.timeouts});
  if (!transport) {
    return forward_error(std::move(transport.error()));
  }
  CasClient client(**transport, RetryPolicy{.total = std::chrono::milliseconds(0)});
  auto version = client.version();
  if (!version) {
    return forward_error(std::move(version.error()),
                         "attesting the CAS at " + address->authority());
  }
  AttestResult result{.authority = address->authority(),
                      .cas_key = *presented,
                      .trust = trust.mode,
                      .version = *version};
  auto saved = update_client_config(config_file, [&](ClientConfig& config) -> Result<void> {
    config.cas_db[result.authority] = AttestedCas{.url = "https://" + result.authority + "/",
                                                  .chain = *chain,
                                                  .cas_key = *presented,
                                                  .trust = trust.mode,
                                                  .ca = trust.ca_pem};
    if (!config.default_cas || options.make_default) {
      config.default_cas = result.authority;
    }
    result.is_default = config.default_cas == result.authority;
    return {};
  });
  if (!saved) {
    return forward_error(std::move(saved.error()));
  }
  return result;
}

Result<std::string> attested_certificate(const std::filesystem::path& config_file,
                                         const std::string& address)
{
  auto config = load_client_config(config_file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  auto address_text = address;
  if (address_text.empty()) {
    if (!config->default_cas) {
      return fail(ErrorKind::usage,
                  "no CAS given and none attested as the default in " + config_file.string() + ": "
                      + attest_hint("<address>"));
    }
    address_text = *config->default_cas;
  }
  auto parsed = parse_cas_address(address_text);
  if (!parsed) {
    return forward_error(std::move(parsed.error()));
  }
  const auto found = config->cas_db.find(parsed->authority());
  if (found == config->cas_db.end() || found->second.chain.empty()) {
    return fail(ErrorKind::usage,
                "the CAS at " + parsed->authority() + " is not attested in " + config_file.string()
                    + ": " + attest_hint(parsed->authority()));
  }
  auto chain = found->second.chain;
  if (chain.back() != '\n') {
    chain += '\n';
  }
  return chain;
}

}  // namespace sconectl::cas
