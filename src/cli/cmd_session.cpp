#include "cas_options.hpp"
#include "command.hpp"
#include "sconectl/cas/client.hpp"
#include "sconectl/cas/key_hash.hpp"

#include <memory>
#include <set>

namespace sconectl::cli {

namespace {

struct SessionCommand {
  std::string name;
  std::string hash;
  std::size_t max_versions = 1000;
  CasOptions cas;
};

Result<int> run_get(const SessionCommand& command, const GlobalOptions& global, Services& services)
{
  auto connection = connect_with(command.cas, services);
  if (!connection) {
    return forward_error(std::move(connection.error()));
  }
  cas::CasClient client(*connection->transport);
  auto record = cas::read_verified_session(
      client,
      command.name,
      command.hash.empty() ? std::nullopt : std::optional<std::string>(command.hash));
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  if (global.format == OutputFormat::json) {
    services.out << cas::to_json(*record).dump(2) << '\n';
  } else {
    services.out << record->session;
    if (!record->session.empty() && record->session.back() != '\n') {
      services.out << '\n';
    }
  }
  return exit_code::ok;
}

Result<int> run_history(const SessionCommand& command,
                        const GlobalOptions& global,
                        Services& services)
{
  auto connection = connect_with(command.cas, services);
  if (!connection) {
    return forward_error(std::move(connection.error()));
  }
  cas::CasClient client(*connection->transport);
  auto versions = nlohmann::json::array();
  std::set<std::string> seen;
  std::optional<std::string> next;
  while (versions.size() < command.max_versions) {
    auto record = cas::read_verified_session(client, command.name, next);
    if (!record) {
      return forward_error(std::move(record.error()));
    }
    if (!seen.insert(record->hash).second) {
      return fail(ErrorKind::server,
                  "the predecessor chain of '" + command.name + "' loops back to " + record->hash);
    }
    versions.push_back(
        {{"hash", record->hash},
         {"predecessor",
          record->predecessor ? nlohmann::json(*record->predecessor) : nlohmann::json(nullptr)},
         {"creator", record->creator}});
    if (global.format != OutputFormat::json) {
      services.out << record->hash << (next ? "" : "  (current)")
                   << (record->predecessor ? "" : "  (created)") << '\n';
    }
    if (!record->predecessor) {
      break;
    }
    next = record->predecessor;
  }
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"session", command.name}, {"versions", versions}}.dump(2)
                 << '\n';
  }
  return exit_code::ok;
}

Result<int> run_show_key_hash(const CasOptions& options, Services& services)
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
  auto hash = cas::key_hash_of_certificate(identity->certificate_pem);
  if (!hash) {
    return forward_error(std::move(hash.error()));
  }
  services.out << *hash << '\n';
  return exit_code::ok;
}

}  // namespace

Action add_session_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto* group = app.add_subcommand("session", "Read sessions (policies) stored in a CAS");
  group->require_subcommand(1);
  auto command = std::make_shared<SessionCommand>();
  auto* get = group->add_subcommand("get", "Print the current (or an older) version of a session");
  get->add_option("name", command->name, "Session name, e.g. my-namespace/my-service")->required();
  get->add_option("--hash", command->hash, "An older version, by its hash");
  add_cas_options(*get, command->cas, true);
  auto* history = group->add_subcommand(
      "history", "List a session's versions, newest first, by walking its predecessor chain");
  history->add_option("name", command->name, "Session name")->required();
  history->add_option("--max", command->max_versions, "Stop after this many versions")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  add_cas_options(*history, command->cas, true);
  return [=, &global, &services]() -> Result<int> {
    if (get->parsed()) {
      return run_get(*command, global, services);
    }
    return run_history(*command, global, services);
  };
}

Action add_self_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  (void)global;
  auto* group = app.add_subcommand("self", "This client's identity towards a CAS");
  group->require_subcommand(1);
  auto options = std::make_shared<CasOptions>();
  auto* show = group->add_subcommand(
      "show-key-hash",
      "Print the key hash of this client's certificate (for access_policy), creating the identity "
      "on first use");
  add_cas_options(*show, *options, false);
  return [=, &services]() -> Result<int> { return run_show_key_hash(*options, services); };
}

}  // namespace sconectl::cli
