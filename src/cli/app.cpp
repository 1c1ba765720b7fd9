#include "command.hpp"
#include "report.hpp"
#include "sconectl/version.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <exception>

namespace sconectl::cli {

namespace {

// Logs go to the same stream as diagnostics (stderr in main), never to stdout, which carries
// results only.
void configure_logging(const GlobalOptions& global, std::ostream& err)
{
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(err, true);
  auto logger = std::make_shared<spdlog::logger>("sconectl", sink);
  logger->set_pattern("%l: %v");
  if (global.quiet) {
    logger->set_level(spdlog::level::err);
  } else if (global.verbosity >= 2) {
    logger->set_level(spdlog::level::debug);
  } else if (global.verbosity == 1) {
    logger->set_level(spdlog::level::info);
  } else {
    logger->set_level(spdlog::level::warn);
  }
  spdlog::set_default_logger(logger);
}

// CLI11 exits with its own codes (100-127) for parse errors; users get one usage code.
int report_parse_error(CLI::App& app, const CLI::ParseError& error, Services& services)
{
  std::ostringstream out;
  std::ostringstream err;
  const int code = app.exit(error, out, err);
  services.out << out.str();
  if (code == 0) {
    return exit_code::ok;
  }
  auto message = err.str();
  if (message.rfind("Run with --help", 0) != 0 && !message.empty()) {
    services.err << "sconectl: error: " << message;
  } else {
    services.err << message;
  }
  return exit_code::invalid_input;
}

}  // namespace

int run(int argc, const char* const* argv, Services& services)
{
  CLI::App app{
      "sconectl: turn cloud-native services into confidential ones.\n"
      "Builds confidential images from service manifests; generates CAS policies and Helm "
      "charts from mesh manifests and uploads the policies to a CAS over mutual TLS.",
      "sconectl"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", std::string("sconectl ") + k_version);
  app.footer(
      "Exit codes: 0 success, 1 runtime failure, 2 invalid input or usage, 3 diff found "
      "changes or verify found differences.\n"
      "Documentation: docs/cli.md, docs/manifests.md");

  GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbosity, "More output on stderr (-vv for debug)");
  app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr, no progress");
  choices(app.add_option("--format", global.format, "Output format for results on stdout"),
          std::map<std::string, OutputFormat>{{"text", OutputFormat::text},
                                              {"json", OutputFormat::json}},
          "text");

  const std::map<std::string, Action> actions{
      {"validate", add_validate_command(app, global, services)},
      {"apply", add_apply_command(app, global, services)},
      {"diff", add_diff_command(app, global, services)},
      {"verify", add_verify_command(app, global, services)},
      {"cas", add_cas_command(app, global, services)},
      {"session", add_session_command(app, global, services)},
      {"self", add_self_command(app, global, services)},
      {"version", add_version_command(app, global, services)},
      {"completion", add_completion_command(app, global, services)}};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return report_parse_error(app, error, services);
  }
  configure_logging(global, services.err);

  try {
    Result<int> outcome = exit_code::ok;
    for (const auto& [name, action] : actions) {
      if (app.got_subcommand(name)) {
        outcome = action();
      }
    }
    if (!outcome) {
      if (global.format == OutputFormat::json) {
        services.out << nlohmann::json{{"error", to_json(outcome.error())}}.dump(2) << '\n';
      }
      print_error(services.err, outcome.error());
      return exit_code_for(outcome.error().kind);
    }
    return *outcome;
  } catch (const std::exception& e) {
    services.err << "sconectl: error: internal error: " << e.what()
                 << "\nThis is a bug in sconectl; please report it with the command you ran.\n";
    return exit_code::failure;
  }
}

}  // namespace sconectl::cli
