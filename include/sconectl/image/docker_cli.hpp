#pragma once

#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"
#include "sconectl/util/process.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::image {

// What `docker image inspect` says about an image.
struct ImageInfo {
  std::string id;
  std::vector<std::string> repo_digests;
  std::map<std::string, std::string> labels;
  std::vector<std::string> env;
};

// `docker image inspect`'s JSON object for one image, as the CLI prints it and the Engine API
// answers it; an error names `reference` when it is not one.
[[nodiscard]] Result<ImageInfo> image_info_from_json(const nlohmann::json& json,
                                                     const std::string& reference);

// The read-only lookups, which the Engine API answers faster than the CLI (docker_engine.hpp).
class ImageLookup {
 public:
  virtual ~ImageLookup() = default;
  // The engine's version; the first call tells whether the daemon answers.
  [[nodiscard]] virtual Result<std::string> server_version() = 0;
  // std::nullopt when the image does not exist locally.
  [[nodiscard]] virtual Result<std::optional<ImageInfo>> inspect(const std::string& reference) = 0;
  // Every tagged local image: "repository:tag" -> image id, in one call.
  [[nodiscard]] virtual Result<std::map<std::string, std::string>> image_ids() = 0;
  // The manifest digest the registry holds for `reference` ("sha256:..."), asked without
  // pulling; std::nullopt when it holds none or this lookup cannot tell cheaply. Never a reason
  // to fail: a caller that gets no answer pushes.
  [[nodiscard]] virtual std::optional<std::string> registry_digest(const std::string& reference)
  {
    (void)reference;
    return std::nullopt;
  }
  // A registry_digest call may follow soon: start what it needs in the background.
  virtual void prepare_registry_digest() {}
};

struct BuildRequest {
  std::filesystem::path context_dir;
  std::string tag;
  std::map<std::string, std::string> labels;
};

// Drives the Docker CLI through a ProcessRunner with argument vectors. The CLI itself honours
// DOCKER_HOST and DOCKER_CONFIG from the environment; `variables` is where this class reads them
// for its messages (the CLI passes Services::variables). Failures become one-paragraph errors that
// say what to do (daemon down, not logged in, credential helper, untrusted registry certificate).
class DockerCli final : public ImageLookup {
 public:
  explicit DockerCli(ProcessRunner& processes,
                     std::string program = "docker",
                     manifest::VariableLookup variables = manifest::process_environment());

  // Sends the lookups below to `lookup` (the Engine API) instead of the CLI.
  void look_up_through(std::unique_ptr<ImageLookup> lookup) { m_lookup = std::move(lookup); }
  [[nodiscard]] bool looks_up_through_engine() const { return m_lookup != nullptr; }

  // The engine's version; the first call tells whether docker is installed and the daemon answers.
  [[nodiscard]] Result<std::string> server_version() override;
  // std::nullopt when the image does not exist locally.
  [[nodiscard]] Result<std::optional<ImageInfo>> inspect(const std::string& reference) override;
  // Every tagged local image: "repository:tag" -> image id, in one call.
  [[nodiscard]] Result<std::map<std::string, std::string>> image_ids() override;
  // Through the Engine API when lookups go there; the CLI alone cannot tell without a process
  // and a pull's worth of work, so std::nullopt.
  [[nodiscard]] std::optional<std::string> registry_digest(const std::string& reference) override;
  void prepare_registry_digest() override;
  [[nodiscard]] Result<void> pull(const std::string& reference);
  // Streams every output line to `on_line`. On failure the error names the failing step and
  // carries the whole output in its context.
  [[nodiscard]] Result<void> build(const BuildRequest& request,
                                   const std::function<void(std::string_view line)>& on_line);
  // Pushes and returns the registry's manifest digest ("sha256:...").
  [[nodiscard]] Result<std::string> push(const std::string& reference);
  [[nodiscard]] Result<void> save(const std::string& reference,
                                  const std::filesystem::path& archive);
  // Runs the image's `command` with extra environment, time-boxed; the caller reads stdout.
  [[nodiscard]] Result<Completed> run(const std::string& reference,
                                      const std::vector<std::string>& command,
                                      const std::map<std::string, std::string>& env,
                                      std::chrono::milliseconds timeout);

 private:
  [[nodiscard]] Result<Completed> docker(std::vector<std::string> args,
                                         std::optional<std::chrono::milliseconds> timeout = {},
                                         std::function<void(std::string_view)> on_output = {});
  [[nodiscard]] Error failure(const std::string& action, const Completed& completed) const;

  ProcessRunner& m_processes;
  std::string m_program;
  manifest::VariableLookup m_variables;
  std::unique_ptr<ImageLookup> m_lookup;
};

// The step a failed `docker build` output stopped at ("Step 4/7 : RUN ..." or "[3/5] RUN ..."),
// or "" when none is recognisable.
[[nodiscard]] std::string failed_build_step(std::string_view output);

}  // namespace sconectl::image
