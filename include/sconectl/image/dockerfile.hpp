#pragma once

#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sconectl::image {

// Where the build context puts things; the Dockerfile refers to these fixed names only, so no
// user-chosen file name ever appears in it.
inline constexpr const char* k_context_app_dir = "app";
inline constexpr const char* k_context_requirements = "requirements.txt";
inline constexpr const char* k_image_requirements_path = "/tmp/sconectl/requirements.txt";
inline constexpr const char* k_default_workdir = manifest::k_default_pwd;
inline constexpr const char* k_context_runtime = "sconectl-runtime-sim";

// The simulation runtime as the image's entrypoint (--runtime sim): it measures what the
// arguments name, attests, and runs the session's command in place of CMD.
struct RuntimePlan {
  std::string image_path;                 // where it is copied in the image
  std::vector<std::string> not_measured;  // the injection files' targets
  bool allow_persistent_injection = false;
};

// Everything the Dockerfile says, decided from the manifest.
struct DockerfilePlan {
  std::string base_image;
  std::string workdir;
  // SCONE_* runtime settings with literal values: they must be set before attestation, so they
  // go into the image. Everything else in the environment reaches the program only through CAS.
  std::vector<std::pair<std::string, std::string>> env;
  bool install_requirements = false;
  bool copy_app = false;
  // Java kinds: the javac command line (exec form) that compiles the copied sources into the
  // working directory; empty when there is nothing to compile.
  std::vector<std::string> compile;
  std::vector<std::string> run;
  std::vector<std::string> command;  // for Java kinds with the class path inserted
  std::optional<RuntimePlan> runtime;
};

// The entrypoint that starts the runtime: `<runtime> --program P --pwd D [...] --`.
[[nodiscard]] std::vector<std::string> runtime_entrypoint(const DockerfilePlan& plan);

// Errors (kind manifest) for values a Dockerfile cannot carry, naming the field.
[[nodiscard]] Result<DockerfilePlan> plan_dockerfile(const manifest::ServiceManifest& service,
                                                     const std::string& base_image);

// The Dockerfile text. Deterministic; every value from the manifest is quoted as JSON (exec form)
// or escaped, so no value can add an instruction or be expanded by the builder.
[[nodiscard]] std::string render_dockerfile(const DockerfilePlan& plan);

}  // namespace sconectl::image
