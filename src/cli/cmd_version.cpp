#include "command.hpp"
#include "sconectl/image/sim_runtime.hpp"
#include "sconectl/version.hpp"

#include <CLI/Version.hpp>
#include <curl/curlver.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <spdlog/version.h>

#include <memory>
#include <string>
#include <vector>

#include <archive.h>
#include <sqlite3.h>
#include <yaml.h>

#include <sconectl_build_info.hpp>  // generated at build time: SCONECTL_GIT_COMMIT

namespace sconectl::cli {

namespace {

struct Library {
  std::string name;
  std::string version;
  // "run time": asked of the library this process loaded; "build time": from the headers this
  // sconectl was compiled against (header-only libraries, and those loaded only when needed).
  std::string seen;
};

std::vector<Library> libraries()
{
  const auto numbers = [](int major, int minor, int patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  };
  return {
      {"CLI11", CLI11_VERSION, "build time"},
      {"cpp-httplib", SCONECTL_HTTPLIB_VERSION, "build time"},
      {"libarchive", ARCHIVE_VERSION_ONLY_STRING, "build time"},
      {"libcurl", LIBCURL_VERSION, "build time"},
      {"libyaml", yaml_get_version_string(), "run time"},
      {"nlohmann_json",
       numbers(
           NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH),
       "build time"},
      {"OpenSSL", OpenSSL_version(OPENSSL_VERSION), "run time"},
      {"spdlog", numbers(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH), "build time"},
      {"SQLite", sqlite3_libversion(), "run time"},
      {"yaml-cpp", SCONECTL_YAML_CPP_VERSION, "build time"},
  };
}

int run_version(OutputFormat format, Services& services)
{
  const auto runtime = image::find_sim_runtime(services.variables, SCONECTL_RUNTIME_FROM_BINDIR);
  if (format == OutputFormat::json) {
    auto libs = nlohmann::json::object();
    for (const auto& library : libraries()) {
      libs[library.name] = {{"version", library.version}, {"seen", library.seen}};
    }
    services.out << nlohmann::json{{"version", k_version},
                                   {"git_commit", SCONECTL_GIT_COMMIT},
                                   {"build_type", SCONECTL_BUILD_TYPE},
                                   {"compiler", SCONECTL_COMPILER},
                                   {"runtime_sim",
                                    runtime ? nlohmann::json(runtime->string())
                                            : nlohmann::json(nullptr)},
                                   {"libraries", libs}}
                        .dump(2)
                 << '\n';
    return exit_code::ok;
  }
  services.out << "sconectl " << k_version << "\n"
               << "git commit: " << SCONECTL_GIT_COMMIT << "\n"
               << "build type: " << SCONECTL_BUILD_TYPE << "\n"
               << "compiler: " << SCONECTL_COMPILER << "\n"
               << "simulation runtime: " << (runtime ? runtime->string() : std::string("not found"))
               << "\n"
               << "libraries:\n";
  for (const auto& library : libraries()) {
    services.out << "  " << library.name << " " << library.version << " (" << library.seen << ")\n";
  }
  return exit_code::ok;
}

}  // namespace

Action add_version_command(CLI::App& app, const GlobalOptions& global, Services& services)
{
  auto* command = app.add_subcommand(
      "version",
      "Print the version, git commit, build type and library versions (for bug reports)");
  auto format = std::make_shared<std::optional<OutputFormat>>();
  auto* option = command->add_option_function<std::string>(
      "--format",
      [format](const std::string& name) {
        *format = name == "json" ? OutputFormat::json : OutputFormat::text;
      },
      "Output format (default: the global --format)");
  option->check(CLI::IsMember({"text", "json"}, CLI::ignore_case))->option_text("{json,text}");
  return [format, &global, &services]() -> Result<int> {
    return run_version(format->value_or(global.format), services);
  };
}

}  // namespace sconectl::cli
