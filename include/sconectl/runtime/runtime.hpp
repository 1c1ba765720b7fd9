#pragma once

#include "sconectl/cas/attestation.hpp"
#include "sconectl/model/content_measurement.hpp"
#include "sconectl/runtime/cas_channel.hpp"
#include "sconectl/util/error.hpp"

#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

// The simulation runtime (docs/attestation.md): the entrypoint of an image built with
// `apply -f service.yaml --runtime sim`. It measures its container, attests to the CAS and, on
// success, executes the session's program with the session's configuration. There is no SGX: the
// measurement is computed and reported by this process, and nothing protects its memory, its
// files or the secrets it receives from whoever controls the host.
namespace sconectl::runtime {

// Where the runtime sits in an image (the build puts it there; the measurement lists it).
inline constexpr const char* k_runtime_name = model::k_sim_runtime_name;
inline constexpr const char* k_simulation_warning =
    "SIMULATION: no SGX enclave, no hardware protection. The measurement is computed and "
    "reported by this process itself, and the host can read and change this program and its "
    "secrets.";

// What the image's entrypoint fixes: what is measured before attestation.
struct MeasuredProgram {
  std::string program;  // the service's command's first word, as in the manifest
  std::string pwd;
  std::vector<std::string> not_measured;  // injection targets
  bool allow_persistent_injection = false;
};

// From the environment the container was started with.
struct StartSettings {
  std::string config_id;             // SCONE_CONFIG_ID
  std::string cas_address;           // SCONE_CAS_ADDR
  std::string cas_key;               // SCONE_CAS_KEY
  std::string search_path;           // PATH
  std::string service_access_token;  // SCONE_SERVICE_ACCESS_TOKEN, when the session asks for one
};

// The runtime's command line: `--program P --pwd D [--not-measured PATH]...
// [--allow-persistent-injection] [--] [host arguments]`.
struct RuntimeArguments {
  MeasuredProgram measured;
  std::vector<std::string> host_arguments;
};
[[nodiscard]] Result<RuntimeArguments> parse_arguments(const std::vector<std::string>& arguments);

// SCONE_CONFIG_ID, SCONE_CAS_ADDR and SCONE_CAS_KEY, each required; the error names every one
// that is missing or malformed.
[[nodiscard]] Result<StartSettings> read_start_settings(
    const std::map<std::string, std::string>& environment);

// The measurement of this container (content measurement, version 2), with the program file it
// resolved (the one the launch executes).
[[nodiscard]] Result<model::ContentMeasurement> measure_self(const MeasuredProgram& measured,
                                                             const std::string& search_path);

// What execve gets.
struct LaunchPlan {
  std::string executable;  // absolute path of the measured program
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // NAME=value, exactly the session's environment
  std::string pwd;
  std::vector<cas::InjectionFileContent> injection_files;
};

// Attests over `channel` and turns the answer into a plan. ErrorKind::server errors carry the
// CAS's refusal, one line per message ("Attestation failed", "Unexpected enclave measurement").
[[nodiscard]] Result<cas::ProgramConfiguration> attest(CasChannel& channel,
                                                       const StartSettings& settings,
                                                       const std::string& measurement);

// Checks that the session runs the program that was measured, fills in host arguments (@@N) and
// host environment entries; `executable` is the program file the measurement resolved.
[[nodiscard]] Result<LaunchPlan> plan_launch(const cas::ProgramConfiguration& configuration,
                                             const RuntimeArguments& arguments,
                                             const std::map<std::string, std::string>& host_env,
                                             const std::string& executable);

// Writes the injection files (mode 0600, through a temporary name), refusing a target whose
// directory is not memory-backed unless `allow_persistent`.
[[nodiscard]] Result<void> write_injection_files(
    const std::vector<cas::InjectionFileContent>& files, bool allow_persistent);

// The first variable of `envp` (NAME=value) that the program would not see if it started
// non-dumpable, with AT_SECURE (its C library drops it, or OpenSSL or Node.js ignore it), or
// std::nullopt. When there is one, the runtime leaves the program dumpable (docs/attestation.md).
[[nodiscard]] std::optional<std::string> hidden_from_secure_start(
    const std::vector<std::string>& envp);

// While it lives, SIGPIPE is ignored, so that a CAS that closes the connection while the runtime
// writes gives an error the runtime reports instead of killing it without a word. It restores
// the previous disposition when it goes: an ignored signal would stay ignored across execve, and
// the program must start with the disposition it was given.
class IgnoreBrokenPipe {
 public:
  IgnoreBrokenPipe();
  IgnoreBrokenPipe(const IgnoreBrokenPipe&) = delete;
  IgnoreBrokenPipe& operator=(const IgnoreBrokenPipe&) = delete;
  ~IgnoreBrokenPipe();

 private:
  struct sigaction m_previous {};
};

// The whole runtime: returns the exit code when it does not execve (a failure, or SCONE_HASH=1).
[[nodiscard]] int run(const std::vector<std::string>& arguments,
                      const std::map<std::string, std::string>& environment,
                      std::ostream& out,
                      std::ostream& err);

}  // namespace sconectl::runtime
