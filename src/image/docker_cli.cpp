#include "sconectl/image/docker_cli.hpp"

#include "docker_config.hpp"
#include "docker_messages.hpp"
#include "sconectl/util/fs.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <regex>

namespace sconectl::image {

namespace {

// Ordinary docker commands get this long; builds and pushes may take much longer.
constexpr std::chrono::minutes k_quick_timeout{2};
constexpr std::chrono::hours k_long_timeout{2};

bool contains(std::string_view text, std::string_view part)
{
  return text.find(part) != std::string_view::npos;
}

// The last `count` non-empty lines of `text`, joined with "; ".
std::string last_lines(const std::string& text, std::size_t count)
{
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    if (end > start) {
      lines.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  std::string tail;
  for (auto i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    tail += (tail.empty() ? "" : "; ") + lines[i];
  }
  return tail;
}

// The Docker CLI's config file as a message names it, where a `credsStore` entry sends logins to
// a credential helper.
std::string docker_config_file(const manifest::VariableLookup& variables)
{
  const auto file = detail::docker_config_file(variables);
  return file.empty() ? "~/.docker/config.json" : file.string();
}

std::string configured_credential_store(const manifest::VariableLookup& variables)
{
  const auto config = detail::read_docker_config(detail::docker_config_file(variables));
  if (config && config->contains("credsStore") && config->at("credsStore").is_string()) {
    return config->at("credsStore").get<std::string>();
  }
  return "";
}

}  // namespace

namespace detail {

Error daemon_unreachable(const std::string& engine)
{
  return Error{.kind = ErrorKind::process,
               .message = "cannot reach the Docker daemon (" + engine
                          + "). Start it (sudo systemctl start docker, or scripts/infra/docker.sh "
                            "here), or set DOCKER_HOST to a running engine."};
}

Error daemon_refused_user(const std::string& engine)
{
  return Error{.kind = ErrorKind::process,
               .message = "the Docker daemon (" + engine
                          + ") refused this user. Run as a member of the 'docker' group (or "
                            "root), or set DOCKER_HOST to an engine you may use."};
}

}  // namespace detail

DockerCli::DockerCli(ProcessRunner& processes,
                     std::string program,
                     manifest::VariableLookup variables)
    : m_processes(processes), m_program(std::move(program)), m_variables(std::move(variables))
{
}

Result<Completed> DockerCli::docker(std::vector<std::string> args,
                                    std::optional<std::chrono::milliseconds> timeout,
                                    std::function<void(std::string_view)> on_output)
{
  Command command{.program = m_program,
                  .args = std::move(args),
                  .timeout = timeout.value_or(k_quick_timeout),
                  .on_output = std::move(on_output)};
  spdlog::debug("running {}", to_display_string(command));
  auto completed = m_processes.run(command);
  if (!completed) {
    return fail(ErrorKind::process,
                "cannot run '" + m_program + "': " + completed.error().message
                    + ". Install the Docker CLI (Debian: apt-get install docker.io) or put it "
                      "on PATH.");
  }
  if (completed->timed_out) {
    return fail(ErrorKind::process, to_display_string(command) + " did not finish in time");
  }
  return completed;
}

Error DockerCli::failure(const std::string& action, const Completed& completed) const
{
  const auto& err = completed.err;
  const auto host = m_variables("DOCKER_HOST");
  const std::string engine = host ? "DOCKER_HOST=" + *host : std::string("the default socket");
  if (contains(err, "Cannot connect to the Docker daemon") || contains(err, "error during connect")
      || contains(err, "Is the docker daemon running")) {
    return detail::daemon_unreachable(engine);
  }
  if (contains(err, "permission denied while trying to connect to the Docker daemon")
      || contains(err, "permission denied while trying to connect to the docker API")) {
    return detail::daemon_refused_user(engine);
  }
  const auto store = configured_credential_store(m_variables);
  if (!store.empty() && (contains(err, "credential") || contains(err, "docker-credential-"))) {
    return Error{.kind = ErrorKind::process,
                 .message = action + " failed: " + docker_config_file(m_variables) + " sends credentials to "
                            "the helper 'docker-credential-" + store + "' (credsStore), which "
                            "failed. Remove the \"credsStore\" entry or install that helper, then "
                            "run docker login again."};
  }
  if (contains(err, "unauthorized") || contains(err, "authentication required")
      || contains(err, "denied") || contains(err, "no basic auth credentials")) {
    return Error{.kind = ErrorKind::process,
                 .message = action + " was refused by the registry: not logged in or not allowed. "
                                     "Run 'docker login <registry>' (with the same DOCKER_CONFIG), "
                                     "then apply again."};
  }
  if (contains(err, "x509:") || contains(err, "certificate signed by unknown authority")) {
    return Error{.kind = ErrorKind::tls,
                 .message = action + " failed: the Docker engine does not trust the registry's "
                                     "TLS certificate. Put its CA certificate in "
                                     "/etc/docker/certs.d/<registry:port>/ca.crt."};
  }
  return Error{.kind = ErrorKind::process,
               .message = action + " failed (exit code " + std::to_string(completed.exit_code)
                          + "): " + last_lines(err.empty() ? completed.out : err, 3)};
}

Result<std::string> DockerCli::server_version()
{
  if (m_lookup) {
    return m_lookup->server_version();
  }
  auto completed = docker({"version", "--format", "{{.Server.Version}}"});
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    return tl::unexpected(failure("docker version", *completed));
  }
  return last_lines(completed->out, 1);
}

std::optional<std::string> DockerCli::registry_digest(const std::string& reference)
{
  return m_lookup ? m_lookup->registry_digest(reference) : std::nullopt;
}

void DockerCli::prepare_registry_digest()
{
  if (m_lookup) {
    m_lookup->prepare_registry_digest();
  }
}

Result<std::map<std::string, std::string>> DockerCli::image_ids()
{
  if (m_lookup) {
    return m_lookup->image_ids();
  }
  auto completed =
      docker({"image", "ls", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}"});
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    return tl::unexpected(failure("docker image ls", *completed));
  }
  std::map<std::string, std::string> ids;
  std::size_t start = 0;
  while (start < completed->out.size()) {
    auto end = completed->out.find('\n', start);
    if (end == std::string::npos) {
      end = completed->out.size();
    }
    const auto line = completed->out.substr(start, end - start);
    const auto tab = line.find('\t');
    if (tab != std::string::npos && line.find("<none>") == std::string::npos) {
      ids[line.substr(0, tab)] = line.substr(tab + 1);
    }
    start = end + 1;
  }
  return ids;
}

Result<std::optional<ImageInfo>> DockerCli::inspect(const std::string& reference)
{
  if (m_lookup) {
    return m_lookup->inspect(reference);
  }
  auto completed = docker({"image", "inspect", "--format", "{{json .}}", reference});
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    if (contains(completed->err, "No such image") || contains(completed->err, "No such object")) {
      return std::optional<ImageInfo>{};
    }
    return tl::unexpected(failure("docker image inspect " + reference, *completed));
  }
  auto info =
      image_info_from_json(nlohmann::json::parse(completed->out, nullptr, false), reference);
  if (!info) {
    return forward_error(std::move(info.error()));
  }
  return std::optional<ImageInfo>(std::move(*info));
}

Result<ImageInfo> image_info_from_json(const nlohmann::json& json, const std::string& reference)
{
  const auto unexpected = [&reference] {
    return fail(ErrorKind::process,
                "docker image inspect " + reference + " gave unexpected output");
  };
  if (!json.is_object() || !json.contains("Id") || !json.at("Id").is_string()) {
    return unexpected();
  }
  ImageInfo info{.id = json["Id"].get<std::string>()};
  const auto strings = [](const nlohmann::json& list, std::vector<std::string>& into) {
    for (const auto& item : list) {
      if (item.is_string()) {
        into.push_back(item.get<std::string>());
      }
    }
  };
  if (json.contains("RepoDigests") && json["RepoDigests"].is_array()) {
    strings(json["RepoDigests"], info.repo_digests);
  }
  if (json.contains("Config") && json["Config"].is_object()) {
    const auto& config = json["Config"];
    if (config.contains("Labels") && config["Labels"].is_object()) {
      for (const auto& [name, value] : config["Labels"].items()) {
        if (value.is_string()) {
          info.labels[name] = value.get<std::string>();
        }
      }
    }
    if (config.contains("Env") && config["Env"].is_array()) {
      strings(config["Env"], info.env);
    }
  }
  return info;
}

Result<void> DockerCli::pull(const std::string& reference)
{
  auto completed = docker({"pull", "--quiet", reference}, k_long_timeout);
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    return tl::unexpected(failure("docker pull " + reference, *completed));
  }
  return {};
}

Result<void> DockerCli::build(const BuildRequest& request,
                              const std::function<void(std::string_view line)>& on_line)
{
  std::vector<std::string> args{
      "build", "--file", (request.context_dir / "Dockerfile").string(), "--tag", request.tag};
  for (const auto& [name, value] : request.labels) {
    args.emplace_back("--label");
    args.push_back(name + "=" + value);
  }
  args.push_back(request.context_dir.string());
  std::string pending;
  auto forward = [&](std::string_view chunk) {
    pending.append(chunk);
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n')) {
      if (on_line) {
        on_line(std::string_view(pending).substr(0, newline));
      }
      pending.erase(0, newline + 1);
    }
  };
  auto completed = docker(std::move(args), k_long_timeout, forward);
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    auto error = failure("docker build", *completed);
    auto output = completed->out;
    if (!output.empty() && output.back() != '\n' && !completed->err.empty()) {
      output += '\n';  // so the last line of stdout and the first of stderr stay apart
    }
    output += completed->err;
    if (const auto step = failed_build_step(output);
        !step.empty() && error.message.rfind("docker build failed", 0) == 0) {
      error.message = "docker build failed at " + step + ": "
                      + last_lines(completed->err.empty() ? completed->out : completed->err, 2);
    }
    error.details = output;
    return tl::unexpected(std::move(error));
  }
  return {};
}

Result<std::string> DockerCli::push(const std::string& reference)
{
  auto completed = docker({"push", reference}, k_long_timeout);
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    return tl::unexpected(failure("docker push " + reference, *completed));
  }
  static const std::regex digest(R"(digest: (sha256:[0-9a-f]{64}))");
  std::smatch match;
  if (std::regex_search(completed->out, match, digest)) {
    return match[1].str();
  }
  return fail(ErrorKind::process, "docker push " + reference + " did not report a digest");
}

Result<void> DockerCli::save(const std::string& reference, const std::filesystem::path& archive)
{
  auto completed = docker({"save", "--output", archive.string(), reference}, k_long_timeout);
  if (!completed) {
    return forward_error(std::move(completed.error()));
  }
  if (completed->exit_code != 0) {
    return tl::unexpected(failure("docker save " + reference, *completed));
  }
  return {};
}

Result<Completed> DockerCli::run(const std::string& reference,
                                 const std::vector<std::string>& command,
                                 const std::map<std::string, std::string>& env,
                                 std::chrono::milliseconds timeout)
{
  std::vector<std::string> args{"run", "--rm", "--network", "none", "--entrypoint", ""};
  for (const auto& [name, value] : env) {
    args.emplace_back("--env");
    args.push_back(name + "=" + value);
  }
  args.push_back(reference);
  args.insert(args.end(), command.begin(), command.end());
  return docker(std::move(args), timeout);
}

std::string failed_build_step(std::string_view output)
{
  static const std::regex legacy(R"(Step ([0-9]+/[0-9]+) : (.*))");
  static const std::regex buildkit(R"(#[0-9]+ \[[^\]]*?([0-9]+/[0-9]+)\] (.*))");
  std::string step;
  std::size_t start = 0;
  while (start < output.size()) {
    const auto end = std::min(output.find('\n', start), output.size());
    const std::string line(output.substr(start, end - start));
    std::smatch match;
    if (std::regex_search(line, match, legacy) || std::regex_search(line, match, buildkit)) {
      step = "step " + match[1].str() + " (" + match[2].str() + ")";
    }
    start = end + 1;
  }
  return step;
}

}  // namespace sconectl::image
