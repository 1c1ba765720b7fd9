#include "sconectl/runtime/runtime.hpp"

#include "sconectl/cas/api.hpp"
#include "sconectl/cas/key_hash.hpp"
#include "sconectl/runtime/live_file_tree.hpp"
#include "sconectl/util/fs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace sconectl::runtime {

namespace {

constexpr const char* k_prefix = "sconectl-runtime-sim: ";

std::string parent_of(const std::string& path)
{
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool is_memory_backed(const std::string& dir)
{
  struct statfs info {};
  if (::statfs(dir.c_str(), &info) != 0) {
    return false;
  }
  const auto type = static_cast<unsigned long>(info.f_type);
  return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
}

Result<void> make_directories(const std::string& dir)
{
  if (dir == "/" || ::access(dir.c_str(), F_OK) == 0) {
    return {};
  }
  if (auto parent = make_directories(parent_of(dir)); !parent) {
    return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(ErrorKind::io, "cannot create " + dir + ": " + std::strerror(errno));
  }
  return {};
}

std::optional<std::size_t> host_argument_index(const std::string& word)
{
  if (!word.starts_with("@@") || word.size() < 3) {
    return std::nullopt;
  }
  std::size_t index = 0;
  const auto* end = word.data() + word.size();
  if (std::from_chars(word.data() + 2, end, index).ptr != end || index == 0) {
    return std::nullopt;
  }
  return index;
}

std::string lookup(const std::map<std::string, std::string>& environment, const char* name)
{
  const auto found = environment.find(name);
  return found == environment.end() ? std::string() : found->second;
}

// Makes the program that execve starts next non-dumpable, so that a shell in the container without
// CAP_SYS_PTRACE cannot read its /proc/<pid>/environ, mem or maps. execve resets the flag, except
// when the real and effective ids differ at that moment (fs/exec.c, begin_new_exec): then the new
// program is non-dumpable from its first instruction. So the real group id is moved away from the
// effective one, which stays, and so do the uids: files are reached as before. The program starts
// with AT_SECURE, so its C library drops LD_PRELOAD, LD_LIBRARY_PATH, TMPDIR and the like; when the
// session sets one of them it stays dumpable instead (the reason is returned). Returns the real gid
// to restore if execve fails.
Result<gid_t> start_non_dumpable(const std::vector<std::string>& envp)
{
  if (const auto hidden = hidden_from_secure_start(envp)) {
    return fail(ErrorKind::usage,
                "the session sets " + *hidden
                    + ", which a program started non-dumpable would not see (AT_SECURE)");
  }
  const gid_t real = ::getgid();
  const gid_t effective = ::getegid();
  if (real != effective) {
    return real;
  }
  constexpr gid_t k_other = 65534;  // nogroup
  const gid_t other = effective == k_other ? k_other - 1 : k_other;
  if (::setresgid(other, effective, effective) != 0) {
    return fail(ErrorKind::process,
                std::string("cannot set a real group id apart from the effective one (")
                    + std::strerror(errno) + "): run the container as root or with CAP_SETGID");
  }
  return real;
}

}  // namespace

std::optional<std::string> hidden_from_secure_start(const std::vector<std::string>& envp)
{
  // glibc's unsecvars.h and tunables, and the secure_getenv users most programs meet.
  static const std::vector<std::string> k_names = {"GCONV_PATH",
                                                   "GETCONF_DIR",
                                                   "GLIBC_TUNABLES",
                                                   "HOSTALIASES",
                                                   "LOCALDOMAIN",
                                                   "LOCPATH",
                                                   "NIS_PATH",
                                                   "NLSPATH",
                                                   "RESOLV_HOST_CONF",
                                                   "RES_OPTIONS",
                                                   "TMPDIR",
                                                   "TZDIR",
                                                   "SSL_CERT_FILE",
                                                   "SSL_CERT_DIR",
                                                   "OPENSSL_CONF",
                                                   "OPENSSL_MODULES",
                                                   "NODE_OPTIONS",
                                                   "NODE_EXTRA_CA_CERTS"};
  for (const auto& entry : envp) {
    const auto name = entry.substr(0, entry.find('='));
    if (name.starts_with("LD_") || name.starts_with("MALLOC_")
        || std::find(k_names.begin(), k_names.end(), name) != k_names.end()) {
      return name;
    }
  }
  return std::nullopt;
}

Result<RuntimeArguments> parse_arguments(const std::vector<std::string>& arguments)
{
  RuntimeArguments parsed;
  std::size_t i = 0;
  const auto value_of = [&](const std::string& option) -> Result<std::string> {
    if (i + 1 >= arguments.size()) {
      return fail(ErrorKind::usage, option + " needs a value");
    }
    return arguments[++i];
  };
  for (; i < arguments.size(); ++i) {
    const auto& argument = arguments[i];
    if (argument == "--") {
      ++i;
      break;
    }
    if (argument == "--program" || argument == "--pwd" || argument == "--not-measured") {
      auto value = value_of(argument);
      if (!value) {
        return forward_error(std::move(value.error()));
      }
      if (argument == "--program") {
        parsed.measured.program = *value;
      } else if (argument == "--pwd") {
        parsed.measured.pwd = *value;
      } else {
        parsed.measured.not_measured.push_back(*value);
      }
    } else if (argument == "--allow-persistent-injection") {
      parsed.measured.allow_persistent_injection = true;
    } else {
      break;  // the first host argument
    }
  }
  parsed.host_arguments.assign(arguments.begin() + static_cast<std::ptrdiff_t>(i), arguments.end());
  if (parsed.measured.pwd == "/") {
    return fail(ErrorKind::usage,
                "--pwd /: the runtime measures everything under pwd, and '/' holds /proc and /sys");
  }
  if (parsed.measured.program.empty() || parsed.measured.pwd.empty()
      || parsed.measured.pwd.front() != '/') {
    return fail(ErrorKind::usage,
                "the image's entrypoint must give --program and an absolute --pwd (rebuild the "
                "image with `sconectl apply -f service.yaml --runtime sim`)");
  }
  return parsed;
}

Result<StartSettings> read_start_settings(const std::map<std::string, std::string>& environment)
{
  StartSettings settings{.config_id = lookup(environment, "SCONE_CONFIG_ID"),
                         .cas_address = lookup(environment, "SCONE_CAS_ADDR"),
                         .cas_key = lookup(environment, "SCONE_CAS_KEY"),
                         .search_path = lookup(environment, "PATH"),
                         .service_access_token = lookup(environment, "SCONE_SERVICE_ACCESS_TOKEN")};
  if (settings.search_path.empty()) {
    settings.search_path = model::k_default_search_path;
  }
  std::vector<std::string> problems;
  if (settings.config_id.empty()) {
    problems.emplace_back("SCONE_CONFIG_ID is not set (<session>/<service>)");
  } else if (settings.config_id.find('/') == std::string::npos) {
    problems.emplace_back("SCONE_CONFIG_ID must be <session>/<service>, not '"
                          + settings.config_id.substr(0, 200) + "'");
  }
  if (settings.cas_address.empty()) {
    problems.emplace_back("SCONE_CAS_ADDR is not set (host[:port] of the CAS)");
  } else if (auto address = cas::parse_cas_address(settings.cas_address); !address) {
    problems.emplace_back("SCONE_CAS_ADDR: " + address.error().message);
  }
  if (settings.cas_key.empty()) {
    problems.emplace_back(
        "SCONE_CAS_KEY is not set: the runtime talks only to the CAS whose key it is given");
  } else if (const auto problem = cas::key_hash_problem(settings.cas_key); !problem.empty()) {
    problems.emplace_back("SCONE_CAS_KEY: " + problem);
  }
  if (!problems.empty()) {
    std::string message = problems.front();
    for (std::size_t i = 1; i < problems.size(); ++i) {
      message += "; " + problems[i];
    }
    return fail(ErrorKind::usage, message);
  }
  return settings;
}

Result<model::ContentMeasurement> measure_self(const MeasuredProgram& measured,
                                               const std::string& search_path)
{
  const LiveFileTree files;
  return model::measure_content(files,
                                {.command = {measured.program},
                                 .pwd = measured.pwd,
                                 .search_path = search_path,
                                 .runtime = std::string(model::k_sim_runtime_path),
                                 .not_measured = measured.not_measured});
}

Result<cas::ProgramConfiguration> attest(CasChannel& channel,
                                         const StartSettings& settings,
                                         const std::string& measurement)
{
  // The CAS's refusal, one message per line, as SCONE prints it.
  const auto refusal = [](const ChannelAnswer& answer) {
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    std::string lines;
    if (body.is_object() && body.contains("msg") && body.at("msg").is_array()) {
      for (const auto& message : body.at("msg")) {
        if (message.is_string()) {
          lines += (lines.empty() ? "" : "\n") + message.get<std::string>();
        }
      }
    }
    return fail(ErrorKind::server,
                lines.empty() ? "the CAS answered " + std::to_string(answer.status) : lines);
  };
  auto nonce_answer =
      channel.send({.method = "GET", .target = std::string(cas::k_attestation_nonce_path)});
  if (!nonce_answer) {
    return forward_error(std::move(nonce_answer.error()));
  }
  if (nonce_answer->status != 200) {
    return refusal(*nonce_answer);
  }
  const auto nonce_json = nlohmann::json::parse(nonce_answer->body, nullptr, false);
  auto nonce = cas::attestation_nonce_from_json(nonce_json);
  if (!nonce) {
    return fail(ErrorKind::server, "the CAS sent a malformed nonce: " + nonce.error().message);
  }
  auto key = cas::generate_ephemeral_key();
  if (!key) {
    return forward_error(std::move(key.error()));
  }
  cas::AttestationRequest request{.config_id = settings.config_id,
                                  .measurement = measurement,
                                  .nonce = nonce->nonce,
                                  .public_key = key->public_key,
                                  .service_access_token = settings.service_access_token};
  request.report_data = cas::report_data_of(request);
  auto answer = channel.send({.method = "POST",
                              .target = std::string(cas::k_attestation_path),
                              .content_type = "application/json",
                              .body = cas::to_json(request).dump()});
  if (!answer) {
    return forward_error(std::move(answer.error()));
  }
  if (answer->status != 200) {
    return refusal(*answer);
  }
  auto sealed =
      cas::sealed_configuration_from_json(nlohmann::json::parse(answer->body, nullptr, false));
  if (!sealed) {
    return fail(ErrorKind::server, "the CAS's answer is malformed: " + sealed.error().message);
  }
  auto opened = cas::open_configuration(request, *key, *sealed);
  if (!opened) {
    return forward_error(std::move(opened.error()));
  }
  const auto configuration = nlohmann::json::parse(*opened, nullptr, false);
  return cas::program_configuration_from_json(configuration);
}

Result<LaunchPlan> plan_launch(const cas::ProgramConfiguration& configuration,
                               const RuntimeArguments& arguments,
                               const std::map<std::string, std::string>& host_env,
                               const std::string& executable)
{
  const auto& measured = arguments.measured;
  // A session without `command` runs the measured program with the arguments the container
  // was started with, as its entrypoint gives them after the runtime's own options.
  if (!configuration.command.empty() && configuration.command.front() != measured.program) {
    return fail(ErrorKind::server,
                "the session's command does not start with the measured program '"
                    + measured.program + "': refusing to run anything else");
  }
  // A session without pwd runs the program in the image's working directory, which is the
  // directory the runtime measured.
  const auto pwd = configuration.pwd.empty() ? measured.pwd : configuration.pwd;
  if (pwd != measured.pwd) {
    return fail(ErrorKind::server,
                "the session's pwd " + configuration.pwd + " is not the measured " + measured.pwd);
  }
  LaunchPlan plan{
      .executable = executable, .pwd = pwd, .injection_files = configuration.injection_files};
  if (configuration.command.empty()) {
    plan.argv.push_back(measured.program);
    plan.argv.insert(
        plan.argv.end(), arguments.host_arguments.begin(), arguments.host_arguments.end());
  }
  for (const auto& word : configuration.command) {
    const auto index = host_argument_index(word);
    if (!index) {
      plan.argv.push_back(word);
      continue;
    }
    if (*index > arguments.host_arguments.size()) {
      return fail(ErrorKind::usage,
                  "the session's command uses " + word + ", but the container was given "
                      + std::to_string(arguments.host_arguments.size()) + " argument(s)");
    }
    plan.argv.push_back(arguments.host_arguments[*index - 1]);
  }
  for (const auto& [name, value] : configuration.environment) {
    plan.envp.push_back(name + "=" + value);
  }
  for (const auto& name : configuration.host_environment) {
    if (configuration.environment.contains(name)) {
      continue;
    }
    if (const auto found = host_env.find(name); found != host_env.end()) {
      plan.envp.push_back(name + "=" + found->second);
    }
  }
  return plan;
}

Result<void> write_injection_files(const std::vector<cas::InjectionFileContent>& files,
                                   bool allow_persistent)
{
  for (const auto& file : files) {
    if (file.path.empty() || file.path.front() != '/' || file.path.find("/../") != std::string::npos
        || file.path.ends_with("/..") || file.path.ends_with("/")) {
      return fail(ErrorKind::server, "injection file path '" + file.path + "' is not absolute");
    }
    const auto dir = parent_of(file.path);
    if (auto made = make_directories(dir); !made) {
      return made;
    }
    if (!allow_persistent && !is_memory_backed(dir)) {
      return fail(ErrorKind::usage,
                  "refusing to write the injection file " + file.path + " onto " + dir
                      + ", which is not memory-backed: mount a tmpfs there (the Helm chart "
                        "mounts an emptyDir with medium Memory; docker run --tmpfs "
                      + dir + "), or rebuild with --allow-persistent-injection");
    }
    // The mode the session gives, whatever the umask; an unpredictable temporary name, fsync'ed,
    // then renamed over the path (util/fs.hpp).
    if (auto written = fs::write_file_atomically(file.path, file.content, file.mode); !written) {
      return written;
    }
  }
  return {};
}

IgnoreBrokenPipe::IgnoreBrokenPipe()
{
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &m_previous);
}

IgnoreBrokenPipe::~IgnoreBrokenPipe()
{
  ::sigaction(SIGPIPE, &m_previous, nullptr);
}

int run(const std::vector<std::string>& arguments,
        const std::map<std::string, std::string>& environment,
        std::ostream& out,
        std::ostream& err)
{
  err << k_prefix << k_simulation_warning << "\n";
  const auto failed = [&err](const Error& error) {
    err << k_prefix << error.message << "\n";
    return 1;
  };
  auto parsed = parse_arguments(arguments);
  if (!parsed) {
    return failed(parsed.error());
  }
  const auto path_setting = lookup(environment, "PATH");
  const auto search_path = path_setting.empty() ? model::k_default_search_path : path_setting;
  if (lookup(environment, "SCONE_HASH") == "1") {
    auto measurement = measure_self(parsed->measured, search_path);
    if (!measurement) {
      return failed(measurement.error());
    }
    out << measurement->value << "\n";
    return 0;
  }
  auto settings = read_start_settings(environment);
  if (!settings) {
    return failed(settings.error());
  }
  err << k_prefix << "Note: Connecting to CAS at " << settings->cas_address << " using service ID "
      << settings->config_id << "\n";
  auto measurement = measure_self(parsed->measured, settings->search_path);
  if (!measurement) {
    return failed(measurement.error());
  }
  auto configuration = [&]() -> Result<cas::ProgramConfiguration> {
    const IgnoreBrokenPipe talking_to_the_cas;
    auto channel = connect_pinned(settings->cas_address, settings->cas_key);
    if (!channel) {
      return forward_error(std::move(channel.error()));
    }
    return attest(**channel, *settings, measurement->value);
  }();
  if (!configuration) {
    if (configuration.error().kind == ErrorKind::server) {
      err << configuration.error().message << "\n";
      return 1;
    }
    return failed(configuration.error());
  }
  if (!configuration->attestation_checked) {
    err << k_prefix << "the session has attestation mode none: the CAS configured this program "
        << "without checking what it is\n";
  }
  auto plan = plan_launch(*configuration, *parsed, environment, measurement->program);
  if (!plan) {
    return failed(plan.error());
  }
  if (auto written =
          write_injection_files(plan->injection_files, parsed->measured.allow_persistent_injection);
      !written) {
    return failed(written.error());
  }
  if (::chdir(plan->pwd.c_str()) != 0) {
    err << k_prefix << "cannot enter " << plan->pwd << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::vector<char*> argv;
  for (auto& word : plan->argv) {
    argv.push_back(word.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : plan->envp) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  const auto undumpable = start_non_dumpable(plan->envp);
  if (!undumpable) {
    err << k_prefix << "note: the program stays readable to a shell in this container ("
        << "/proc/<pid>/environ, mem): " << undumpable.error().message << "\n";
  }
  out.flush();
  err.flush();
  ::execve(plan->executable.c_str(), argv.data(), envp.data());
  const int error = errno;
  if (undumpable && ::getgid() != *undumpable) {
    static_cast<void>(::setresgid(*undumpable, ::getegid(), ::getegid()));
  }
  err << k_prefix << "cannot execute " << plan->executable << ": " << std::strerror(error) << "\n";
  return 127;
}

}  // namespace sconectl::runtime
