#include "cas_options.hpp"
#include "command.hpp"
#include "sconectl/cas/client.hpp"
#include "sconectl/cas/history.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/cas/session_file.hpp"
#include "sconectl/cas_server/local_cas.hpp"
#include "sconectl/util/diagnostic.hpp"
#include "sconectl/util/fs.hpp"

#include <memory>
#include <set>

namespace sconectl::cli {

namespace {
struct SessionCommand {
  std::string name;
  std::string hash;
  std::size_t max_versions = 1000;
  std::string file;
  std::vector<std::string> set;  // -e NAME=VALUE
  std::string target_dir = "target";
  CasOptions cas;
};

// Where the CAS is found when --cas is not given: the record of the last `apply -f mesh.yaml`.
void add_target_option(CLI::App& sub, SessionCommand& command)
{
  sub.add_option("-t,--target-directory",
                 command.target_dir,
                 "Without --cas: use the CAS that `apply -f mesh.yaml` last uploaded to from this "
                 "target directory (its cas/sessions.json), else the default CAS")
      ->default_str("target");
}

Result<cas::SessionFileOptions> file_options(const SessionCommand& command)
{
  cas::SessionFileOptions options;
  for (const auto& assignment : command.set) {
    const auto equals = assignment.find('=');
    if (equals == 0 || equals == std::string::npos) {
      return fail(ErrorKind::usage, "-e takes NAME=VALUE, not '" + assignment.substr(0, 40) + "'");
    }
    options.set[assignment.substr(0, equals)] = assignment.substr(equals + 1);
  }
  return options;
}

// A session file as read once: its text places the problems found in the document.
struct SessionFile {
  std::string text;
  model::SessionDocument document;
};

Result<SessionFile> load_file(const SessionCommand& command)
{
  auto options = file_options(command);
  if (!options) {
    return forward_error(std::move(options.error()));
  }
  auto text = cas::read_session_text(command.file);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  auto document = cas::session_from_text(command.file, *text, *options);
  if (!document) {
    return forward_error(std::move(document.error()));
  }
  return SessionFile{.text = std::move(*text), .document = std::move(*document)};
}

// `session check`: offline. The hash is the one a CAS gives the file when this client creates it
// (or, with a predecessor, updates a session it created).
Result<int> run_check(const SessionCommand& command,
                      const GlobalOptions& global,
                      Services& services)
{
  auto loaded = load_file(command);
  if (!loaded) {
    return forward_error(std::move(loaded.error()));
  }
  const auto& document = loaded->document;
  // A key the language does not have is a mistake for any CAS; what only the local CAS does not
  // support is worth knowing before an upload to it, but another CAS may accept it.
  // Each problem, "PATH: what", at the place of PATH in the file.
  const auto& text = loaded->text;
  const auto diagnostic = [&](const std::string& problem, Severity severity) {
    return cas::session_problem(command.file, text, problem, severity);
  };
  const auto support = cas::local_cas_support(document);
  if (!support.unknown.empty()) {
    Error error{.kind = ErrorKind::manifest,
                .message = command.file + " is not a valid session ("
                           + std::to_string(support.unknown.size())
                           + (support.unknown.size() == 1 ? " problem)" : " problems)")};
    for (const auto& problem : support.unknown) {
      error.diagnostics.push_back(diagnostic(problem, Severity::error));
    }
    return tl::unexpected(std::move(error));
  }
  for (const auto& problem : support.unsupported) {
    auto note = diagnostic(problem, Severity::warning);
    note.path.clear();
    note.message = "note (for the local CAS, sconectl cas serve): " + problem;
    note.severity = Severity::error;  // format() would print it as a warning otherwise
    services.err << format(note) << "\n";
  }
  auto creator = own_key_hash(command.cas, services);
  if (!creator) {
    return forward_error(std::move(creator.error()));
  }
  const auto hash = cas::expected_session_hash(document, *creator);
  if (global.format == OutputFormat::json) {
    const auto predecessor = cas::predecessor_of(document);
    services.out << nlohmann::json{{"name", document.at("name")},
                                   {"hash", hash},
                                   {"predecessor",
                                    predecessor ? nlohmann::json(*predecessor) : nlohmann::json()},
                                   {"creator", *creator}}
                        .dump(2)
                 << '\n';
  } else {
    services.out << hash << '\n';
    services.err << command.file << ": valid session '" << document.at("name").get<std::string>()
                 << "'\n";
  }
  return exit_code::ok;
}

// `session verify`: the hash of a session as written, as Scontain's exercises compute it from what
// `session read` printed (`scone session verify session_read.yml`): with the creator the file
// names, else this client (a hand-written file, as `check`). Offline, like `check`.
Result<int> run_session_verify(const SessionCommand& command,
                               const GlobalOptions& global,
                               Services& services)
{
  auto loaded = load_file(command);
  if (!loaded) {
    return forward_error(std::move(loaded.error()));
  }
  const auto& document = loaded->document;
  std::string creator;
  if (const auto named = cas::creator_of(document)) {
    creator = *named;
  } else {
    auto own = own_key_hash(command.cas, services);
    if (!own) {
      return forward_error(std::move(own.error()));
    }
    creator = std::move(*own);
  }
  const auto hash = cas::expected_session_hash(document, creator);
  const auto name = document.at("name").get<std::string>();
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"name", name}, {"hash", hash}, {"creator", creator}}.dump(2)
                 << '\n';
  } else {
    services.out << hash << '\n';
    services.err << command.file << ": session '" << name << "' (creator " << creator << ")\n";
  }
  return exit_code::ok;
}

// `session create` / `session update`: stdout carries the new hash only, so `$(...)` works.
Result<int> run_write(const SessionCommand& command,
                      cas::SessionWriteMode mode,
                      const GlobalOptions& global,
                      Services& services)
{
  auto loaded = load_file(command);
  if (!loaded) {
    return forward_error(std::move(loaded.error()));
  }
  auto connection = connect_for_sessions(command.cas, services, command.target_dir);
  if (!connection) {
    return forward_error(std::move(connection.error()));
  }
  cas::CasClient client(*connection->transport);
  auto written =
      cas::write_session(client, std::move(loaded->document), mode, connection->own_key_hash);
  if (!written) {
    // The problems a refusing CAS names, at their places in the file, as `session check` shows
    // its own.
    auto error = std::move(written.error());
    if (!error.diagnostics.empty()) {
      for (auto& problem : error.diagnostics) {
        problem =
            cas::session_problem(command.file, loaded->text, problem.message, problem.severity);
      }
    }
    return tl::unexpected(std::move(error));
  }
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"name", written->name},
                                   {"hash", written->hash},
                                   {"predecessor",
                                    written->predecessor ? nlohmann::json(*written->predecessor)
                                                         : nlohmann::json()},
                                   {"action", written->created ? "created" : "updated"},
                                   {"cas", connection->address.authority()}}
                        .dump(2)
                 << '\n';
  } else {
    services.out << written->hash << '\n';
    services.err << written->name << ": " << (written->created ? "created" : "updated") << " on "
                 << connection->address.authority() << '\n';
  }
  return exit_code::ok;
}

Result<int> run_get(const SessionCommand& command, const GlobalOptions& global, Services& services)
{
  auto connection = connect_for_sessions(command.cas, services, command.target_dir);
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
  auto connection = connect_for_sessions(command.cas, services, command.target_dir);
  if (!connection) {
    return forward_error(std::move(connection.error()));
  }
  cas::CasClient client(*connection->transport);
  auto history = cas::read_history(client, command.name, {.max_versions = command.max_versions});
  if (!history) {
    return forward_error(std::move(history.error()));
  }
  if (!*history) {
    return fail(ErrorKind::server, "the CAS has no session '" + command.name + "'");
  }
  auto versions = nlohmann::json::array();
  for (const auto& record : (*history)->versions) {
    versions.push_back(
        {{"hash", record.hash},
         {"predecessor",
          record.predecessor ? nlohmann::json(*record.predecessor) : nlohmann::json(nullptr)},
         {"creator", record.creator}});
    if (global.format != OutputFormat::json) {
      services.out << record.hash << (versions.size() == 1 ? "  (current)" : "")
                   << (record.predecessor ? "" : "  (created)") << '\n';
    }
  }
  if (global.format == OutputFormat::json) {
    services.out << nlohmann::json{{"session", command.name}, {"versions", versions}}.dump(2)
                 << '\n';
  }
  return exit_code::ok;
}

}  // namespace

Action add_session_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto* group = app.add_subcommand(
      "session", "Read sessions (policies) stored in a CAS, or write hand-written ones");
  group->require_subcommand(1);
  auto command = std::make_shared<SessionCommand>();
  // `read` as SCONE's CLI names it, so Scontain's scripts run with sconectl in place of scone.
  auto* get = group->add_subcommand("get", "Print the current (or an older) version of a session");
  get->alias("read");
  get->add_option("name", command->name, "Session name, e.g. my-namespace/my-service")->required();
  get->add_option("--hash", command->hash, "An older version, by its hash");
  add_cas_options(*get, command->cas, true);
  add_target_option(*get, *command);
  auto* history = group->add_subcommand(
      "history", "List a session's versions, newest first, by walking its predecessor chain");
  history->add_option("name", command->name, "Session name")->required();
  history->add_option("--max", command->max_versions, "Stop after this many versions")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  add_cas_options(*history, command->cas, true);
  add_target_option(*history, *command);
  const auto add_file_options = [&command](CLI::App* sub) {
    // The file also positionally, as `scone session create FILE` takes it.
    sub->add_option("-f,--filename,file", command->file, "Session YAML file")->required();
    sub->add_option("-e,--env",
                    command->set,
                    "NAME=VALUE for $NAME / ${NAME} in the file (ahead of the environment)");
  };
  auto* create = group->add_subcommand(
      "create", "Create a session from a hand-written file; prints its hash on stdout");
  add_file_options(create);
  add_cas_options(*create, command->cas, true);
  add_target_option(*create, *command);
  auto* update = group->add_subcommand(
      "update",
      "Update a session from a hand-written file (without a predecessor: the current version); "
      "prints the new hash on stdout");
  add_file_options(update);
  add_cas_options(*update, command->cas, true);
  add_target_option(*update, *command);
  auto* check = group->add_subcommand(
      "check", "Check a hand-written session offline and print the hash it would have");
  add_file_options(check);
  add_cas_options(*check, command->cas, false);
  // As `scone session verify FILE` (later `calculate-hash`), which Scontain's exercises use.
  auto* verify = group->add_subcommand(
      "verify",
      "Print the hash of a session file as written, e.g. what `session get` printed (its creator "
      "kept; without one, this client's); offline");
  add_file_options(verify);
  add_cas_options(*verify, command->cas, false);
  return [=, &global, &services]() -> Result<int> {
    if (get->parsed()) {
      return run_get(*command, global, services);
    }
    if (create->parsed()) {
      return run_write(*command, cas::SessionWriteMode::create, global, services);
    }
    if (update->parsed()) {
      return run_write(*command, cas::SessionWriteMode::update, global, services);
    }
    if (check->parsed()) {
      return run_check(*command, global, services);
    }
    if (verify->parsed()) {
      return run_session_verify(*command, global, services);
    }
    return run_history(*command, global, services);
  };
}

}  // namespace sconectl::cli
