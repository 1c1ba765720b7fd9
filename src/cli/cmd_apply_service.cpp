#include "apply_options.hpp"
#include "sconectl/image/sim_runtime.hpp"
#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/user_config.hpp"
#include "sconectl/runtime/runtime.hpp"

#include <filesystem>
#include <regex>

#include <unistd.h>

namespace sconectl::cli {

namespace {

bool in_ci(const manifest::VariableLookup& variables)
{
  const auto ci = variables("CI");
  return ci && !ci->empty() && *ci != "false";
}

// Shows `docker build` progress: one rewritten line on a terminal, one line per build step in
// logs and CI, every line with -v. The full output is shown anyway when the build fails.
class BuildProgress {
 public:
  BuildProgress(const GlobalOptions& global, std::ostream& err, bool in_ci)
      : m_err(err),
        m_quiet(global.quiet),
        m_verbose(global.verbosity > 0),
        m_terminal(&err == &std::cerr && ::isatty(STDERR_FILENO) != 0 && !in_ci)
  {
  }
  BuildProgress(const BuildProgress&) = delete;
  BuildProgress& operator=(const BuildProgress&) = delete;
  ~BuildProgress() { end_line(); }

  void note(std::string_view text)
  {
    if (m_quiet) {
      return;
    }
    end_line();
    m_err << text << '\n';
  }

  void output(std::string_view line)
  {
    if (m_quiet) {
      return;
    }
    static const std::regex step(R"((Step [0-9]+/[0-9]+ : .*|#[0-9]+ \[.*[0-9]+/[0-9]+\] .*))");
    const std::string text(line);
    const bool is_step = std::regex_match(text, step);
    if (m_verbose) {
      m_err << "  " << text << '\n';
    } else if (is_step && m_terminal) {
      m_err << "\r\x1b[K  " << text.substr(0, 100) << std::flush;
      m_open_line = true;
    } else if (is_step) {
      m_err << "  " << text << '\n';
    }
  }

 private:
  void end_line()
  {
    if (m_open_line) {
      m_err << '\n';
      m_open_line = false;
    }
  }

  std::ostream& m_err;
  bool m_quiet;
  bool m_verbose;
  bool m_terminal;
  bool m_open_line = false;
};

void print_result(const apply::ServiceApplyResult& result,
                  const GlobalOptions& global,
                  std::ostream& out)
{
  const auto& descriptor = result.descriptor;
  if (global.format == OutputFormat::json) {
    out << nlohmann::json{{"service", descriptor.name},
                          {"image", descriptor.image_reference},
                          {"image_id", descriptor.image_id},
                          {"digest",
                           descriptor.image_digest ? nlohmann::json(*descriptor.image_digest)
                                                   : nlohmann::json(nullptr)},
                          {"measurement",
                           {{"method", descriptor.measurement_method},
                            {"value", descriptor.measurement}}},
                          {"mode", descriptor.mode},
                          {"runtime", descriptor.runtime},
                          {"up_to_date", result.up_to_date},
                          {"descriptor", result.descriptor_file.string()}}
               .dump(2)
        << '\n';
    return;
  }
  out << descriptor.name << ": " << (result.up_to_date ? "up to date " : "built ")
      << descriptor.image_reference << " (" << descriptor.image_id.substr(0, 19) << ")\n"
      << "  measurement (" << descriptor.measurement_method << "): " << descriptor.measurement
      << "\n";
  if (descriptor.image_digest) {
    // host:5000/repo without a tag must keep its port: the parser knows which ':' is which.
    const auto parsed = manifest::parse_image_reference(descriptor.image_reference);
    const auto repository = parsed ? parsed->repository() : descriptor.image_reference;
    out << "  pushed: " << repository << "@" << *descriptor.image_digest << "\n";
  } else {
    out << "  not pushed (--no-push)\n";
  }
  out << "  mode: " << descriptor.mode << "\n";
  if (descriptor.runtime == image::k_runtime_sim) {
    out << "  runtime: sim (" << runtime::k_simulation_warning << ")\n";
  }
  out << "  descriptor: " << result.descriptor_file.string() << "\n";
}

}  // namespace

Result<int> apply_service_manifest(const manifest::ServiceManifest& service,
                                   const ApplyOptions& options,
                                   const GlobalOptions& global,
                                   Services& services)
{
  auto config = manifest::read_user_config(
      options.config_file.empty() ? std::nullopt
                                  : std::optional<std::filesystem::path>(options.config_file),
      services.variables);
  if (!config) {
    return forward_error(std::move(config.error()));
  }
  std::optional<std::filesystem::path> sim_runtime;
  if (options.runtime == ServiceRuntime::sim) {
    auto found = image::find_sim_runtime(services.variables, SCONECTL_RUNTIME_FROM_BINDIR);
    if (!found) {
      return forward_error(std::move(found.error()));
    }
    sim_runtime = std::move(*found);
  } else if (options.allow_persistent_injection) {
    return fail(ErrorKind::usage, "--allow-persistent-injection goes with --runtime sim");
  }
  BuildProgress progress(global, services.err, in_ci(services.variables));
  apply::ServiceApplyOptions apply_options{
      .target_dir = options.target_directory,
      .push = options.no_registry ? apply::Push::no : apply::Push::yes,
      .rebuild = options.force ? apply::Rebuild::always : apply::Rebuild::when_inputs_changed,
      .measurer = options.measurer,
      .mode = options.mode,
      .base_image = {.from_command_line = options.base_image.empty()
                                              ? std::nullopt
                                              : std::optional<std::string>(options.base_image),
                     .from_config = config->base_images,
                     .version = options.set_version.empty() ? image::k_default_scone_version
                                                            : options.set_version},
      .sim_runtime = sim_runtime,
      .allow_persistent_injection = options.allow_persistent_injection,
      .on_build_output = [&progress](std::string_view line) { progress.output(line); },
      .on_progress = [&progress](std::string_view text) { progress.note(text); }};
  image::DockerCli docker(services.processes, services.docker_program, services.variables);
  TRY(use_engine_api(docker, services));
  auto result = apply::apply_service(service, apply_options, docker);
  if (!result) {
    return forward_error(std::move(result.error()));
  }
  print_result(*result, global, services.out);
  return exit_code::ok;
}

}  // namespace sconectl::cli
