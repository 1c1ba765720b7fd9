#include "cas_options.hpp"
#include "command.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/util/fs.hpp"

#include <chrono>
#include <cstdint>
#include <memory>

namespace sconectl::cli {

namespace {

struct AttestCommand {
  std::string address;
  std::string ca_file;
  bool trust_any = false;
  bool make_default = false;
  CasOptions cas;
};

struct ServeCommand {
  cas::LocalCasOptions server;
  std::string data_dir;
  double header_timeout_seconds = 10;
  double body_timeout_seconds = 30;
  int nonce_lifetime_seconds = 60;
};

std::chrono::milliseconds milliseconds_of(double seconds)
{
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

Result<int> run_attest(const AttestCommand& command,
                       const GlobalOptions& global,
                       Services& services)
{
  auto config_file = cas_config_file(command.cas, services);
  if (!config_file) {
    return forward_error(std::move(config_file.error()));
  }
  cas::AttestOptions options{.address = command.address,
                             .trust_any = command.trust_any,
                             .make_default = command.make_default,
                             .timeouts = cas_timeouts(command.cas)};
  if (!command.cas.cas_key.empty()) {
    options.cas_key = command.cas.cas_key;
  }
  if (!command.ca_file.empty()) {
    auto pem = fs::read_text_file(command.ca_file);
    if (!pem) {
      return forward_error(std::move(pem.error()), "--ca-file");
    }
    options.ca_pem = std::move(*pem);
  }
  if (command.trust_any) {
    services.err << "WARNING: --only-for-testing-trust-any: the CAS at " << command.address
                 << " is recorded WITHOUT checking who it is. Anyone who can intercept the "
                    "connection can impersonate it and read every policy uploaded to it. Use "
                    "this only for tests.\n";
  }
  auto result = cas::attest_cas(options, *config_file);
  if (!result) {
    return forward_error(std::move(result.error()));
  }
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"cas", result->authority},
                                   {"cas_key", result->cas_key},
                                   {"trust", cas::to_string(result->trust)},
                                   {"default", result->is_default},
                                   {"config", config_file->string()},
                                   {"version", result->version}}
                        .dump(2)
                 << '\n';
  } else if (!global.quiet) {
    services.out << "CAS " << result->authority << " recorded in " << config_file->string()
                 << "\n  key hash: " << result->cas_key
                 << "\n  trusted by: " << cas::to_string(result->trust)
                 << (result->is_default ? "\n  default CAS: yes\n" : "\n");
  }
  return exit_code::ok;
}

// `cas show-certificate`: as `scone cas show-certificate`, which Scontain's exercises run to get
// the
// `--cacert` for curl.
Result<int> run_show_certificate(const AttestCommand& command, Services& services)
{
  auto config_file = cas_config_file(command.cas, services);
  if (!config_file) {
    return forward_error(std::move(config_file.error()));
  }
  auto chain = cas::attested_certificate(*config_file, command.address);
  if (!chain) {
    return forward_error(std::move(chain.error()));
  }
  services.out << *chain;
  return exit_code::ok;
}

Result<int> run_serve(ServeCommand& command, Services& services)
{
  if (command.data_dir.empty()) {
    if (const auto dir = services.variables("SCONECTL_CAS_DATA"); dir && !dir->empty()) {
      command.data_dir = *dir;
    } else if (const auto home = services.variables("HOME"); home && !home->empty()) {
      command.data_dir = *home + "/.local/state/sconectl/cas";
    } else {
      return fail(ErrorKind::usage, "no --data-dir given and HOME is not set");
    }
  }
  command.server.data_dir = command.data_dir;
  command.server.header_timeout = milliseconds_of(command.header_timeout_seconds);
  command.server.body_timeout = milliseconds_of(command.body_timeout_seconds);
  command.server.nonce_lifetime = std::chrono::seconds(command.nonce_lifetime_seconds);
  if (command.server.allow_simulation_without_token) {
    services.err << "WARNING: --allow-simulation-without-token: this CAS configures simulated "
                    "programs of sessions without security.service_access_token. A simulated "
                    "measurement is self-reported, so anyone who can reach this CAS and knows "
                    "such a session's name gets its environment and secrets. Use this only for "
                    "tests.\n";
  }
  TRY(cas::serve_local_cas(command.server, services.out));
  return exit_code::ok;
}

}  // namespace

Action add_cas_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto* group = app.add_subcommand("cas", "Trust a CAS, or run a local one");
  group->require_subcommand(1);

  auto attest = std::make_shared<AttestCommand>();
  auto* attest_command = group->add_subcommand(
      "attest",
      "Check a CAS's identity and record it in config.json, so later commands talk only to it");
  attest_command->add_option("address", attest->address, "CAS address, host[:port]")->required();
  add_cas_options(*attest_command, attest->cas, false);
  auto* key = attest_command->add_option(
      "--cas-key",
      attest->cas.cas_key,
      "Key hash the CAS must present (50 characters; `cas serve` prints it as CAS_KEY)");
  auto* ca = attest_command->add_option(
      "--ca-file", attest->ca_file, "PEM CA that must have issued the CAS certificate");
  auto* any = attest_command->add_flag(
      "--only-for-testing-trust-any",
      attest->trust_any,
      "INSECURE: record the CAS without checking its identity (tests only)");
  key->excludes(ca)->excludes(any);
  ca->excludes(any);
  attest_command->add_flag("--default", attest->make_default, "Make this the default CAS");

  auto show = std::make_shared<AttestCommand>();
  auto* show_command = group->add_subcommand(
      "show-certificate",
      "Print the certificate chain (PEM) an attested CAS presented, e.g. for curl --cacert");
  show_command->add_option(
      "address", show->address, "CAS address, host[:port] (default: the default CAS)");
  add_cas_options(*show_command, show->cas, false);

  auto serve = std::make_shared<ServeCommand>();
  auto* serve_command = group->add_subcommand(
      "serve",
      "Run a local CAS over mutual TLS, for development and tests (it attests simulated programs "
      "only: no SGX, no hardware protection)");
  serve_command
      ->add_option("--listen", serve->server.listen, "host:port to listen on (port 0: any)")
      ->capture_default_str();
  serve_command->add_option("--data-dir",
                            serve->data_dir,
                            "Identity and session database (default: $SCONECTL_CAS_DATA, else "
                            "~/.local/state/sconectl/cas)");
  serve_command
      ->add_option(
          "--max-body-bytes", serve->server.max_body_bytes, "Largest accepted request body")
      ->check(CLI::Range(1024, 64 * 1024 * 1024))
      ->capture_default_str();
  serve_command
      ->add_option("--header-timeout",
                   serve->header_timeout_seconds,
                   "Seconds a client may take for its TLS handshake, and as many again for a "
                   "request's header fields")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  serve_command
      ->add_option("--body-timeout",
                   serve->body_timeout_seconds,
                   "Seconds a client may take to send a request's body after its header fields")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  serve_command
      ->add_option("--max-connections",
                   serve->server.max_connections,
                   "Most connections open at once (also kept below the open-file limit)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  serve_command
      ->add_option("--max-connections-per-source",
                   serve->server.max_connections_per_source,
                   "Most connections open at once from one client address")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  serve_command
      ->add_option(
          "--nonce-lifetime",
          serve->nonce_lifetime_seconds,
          "Seconds an attestation nonce stays valid after its issue (each is accepted once)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve_command
      ->add_option("--max-used-nonces",
                   serve->server.max_used_nonces,
                   "Used attestation nonces remembered until they expire; beyond it the oldest is "
                   "forgotten and every nonce issued no later than it is refused")
      ->check(CLI::Range(1000, 100'000'000))
      ->capture_default_str();
  serve_command->add_flag(
      "!--without-batch-reads",
      serve->server.batch_reads,
      "Answer only SCONE's CAS API (no batch read of session versions): clients then read each "
      "session on its own, as from SCONE's CAS (for comparison)");
  serve_command->add_flag(
      "--allow-simulation-without-token",
      serve->server.allow_simulation_without_token,
      "INSECURE: configure simulated programs of sessions without "
      "security.service_access_token; anyone who knows such a session's name and can reach the CAS "
      "then gets its secrets (tests only)");
  serve_command->add_option("--san",
                            serve->server.extra_names,
                            "More DNS names or IP addresses for the CAS certificate (repeatable)");

  return [=, &global, &services]() -> Result<int> {
    if (attest_command->parsed()) {
      return run_attest(*attest, global, services);
    }
    if (show_command->parsed()) {
      return run_show_certificate(*show, services);
    }
    return run_serve(*serve, services);
  };
}

}  // namespace sconectl::cli
