#include "cas_options.hpp"

#include "sconectl/cas/client_config.hpp"
#include "sconectl/cas/identity.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas/upload.hpp"

namespace sconectl::cli {

namespace {

std::chrono::milliseconds milliseconds(double seconds)
{
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

}  // namespace

void add_cas_options(CLI::App& command, CasOptions& options, bool with_address)
{
  if (with_address) {
    command.add_option("--cas",
                       options.address,
                       "CAS address, host[:port] (port 8081 by default); default: the attested "
                       "default CAS");
    command.add_option("--cas-key",
                       options.cas_key,
                       "Pin the CAS to this key hash instead of what `cas attest` recorded");
  }
  command.add_option("--cas-config",
                     options.config_dir,
                     "Directory of config.json with the client identity and attested CASes "
                     "(default: $SCONECTL_CAS_CONFIG, else ~/.cas)");
  command
      .add_option("--connect-timeout",
                  options.connect_timeout_seconds,
                  "Seconds to wait for a connection to the CAS")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  command
      .add_option("--request-timeout",
                  options.request_timeout_seconds,
                  "Seconds to wait for each CAS request")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  // A benchmark's baseline (bench/run.sh), not for users: kept out of --help.
  command
      .add_flag("--new-connection-per-request",
                options.new_connection_per_request,
                "Open a new TLS connection for every CAS request (slower; for comparison)")
      ->group("");
}

Result<std::filesystem::path> cas_config_file(const CasOptions& options, const Services& services)
{
  return cas::config_file_path(options.config_dir.empty()
                                   ? std::nullopt
                                   : std::optional<std::filesystem::path>(options.config_dir),
                               services.variables);
}

cas::Timeouts cas_timeouts(const CasOptions& options)
{
  return cas::Timeouts{.connect = milliseconds(options.connect_timeout_seconds),
                       .request = milliseconds(options.request_timeout_seconds)};
}

Result<cas::CasConnection> connect_with(const CasOptions& options,
                                        const Services& services,
                                        const std::optional<std::string>& address,
                                        const std::optional<std::string>& mesh_cas_key)
{
  auto config_file = cas_config_file(options, services);
  if (!config_file) {
    return forward_error(std::move(config_file.error()));
  }
  std::optional<std::string> pin = mesh_cas_key;
  if (!options.cas_key.empty()) {
    pin = options.cas_key;
  }
  return cas::connect_to_cas(cas::ConnectOptions{
      .address = !options.address.empty() ? options.address : address.value_or(""),
      .cas_key = pin,
      .config_file = *config_file,
      .timeouts = cas_timeouts(options),
      .reuse_connection = !options.new_connection_per_request,
      .make_transport = services.cas_transport});
}

Result<cas::CasConnection> connect_for_sessions(const CasOptions& options,
                                                const Services& services,
                                                const std::filesystem::path& target_dir)
{
  if (!options.address.empty()) {
    return connect_with(options, services);
  }
  auto record = cas::load_upload_record(target_dir);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  if (!record->cas.empty()) {
    services.err << "Using the CAS at " << record->cas << " recorded in "
                 << cas::upload_record_file(target_dir).string() << "\n";
    return connect_with(options, services, record->cas, record->cas_key);
  }
  auto config_file = cas_config_file(options, services);
  if (!config_file) {
    return forward_error(std::move(config_file.error()));
  }
  auto config = cas::load_client_config(*config_file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  if (!config->default_cas) {
    return fail(ErrorKind::usage,
                "no CAS to talk to: pass --cas <address>; or run this where `sconectl apply -f "
                "mesh.yaml` uploaded before ("
                    + cas::upload_record_file(target_dir).string()
                    + " does not exist); or attest a default CAS with `sconectl cas attest "
                      "<address> --cas-key <key hash>`");
  }
  return connect_with(options, services);
}

Result<std::string> own_key_hash(const CasOptions& options, Services& services)
{
  auto config_file = cas_config_file(options, services);
  if (!config_file) {
    return forward_error(std::move(config_file.error()));
  }
  auto config = cas::load_or_create_identity(*config_file);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  auto identity = cas::parse_identity(config->identity);
  if (!identity) {
    return forward_error(std::move(identity.error()), config_file->string());
  }
  return cas::key_hash_of_certificate(identity->certificate_pem);
}

}  // namespace sconectl::cli
