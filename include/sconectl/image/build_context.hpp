#pragma once

#include "sconectl/manifest/service.hpp"
#include "sconectl/util/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::image {

// One file or directory of a build context, as it goes into the input digest.
struct ContextEntry {
  std::string path;  // relative to the context directory, '/'-separated
  bool is_directory = false;
  std::uint32_t mode = 0;  // normalised: 0755 for directories and executables, else 0644
  std::uint64_t size = 0;
  std::string sha256;  // of the content, hex; empty for directories
};

struct BuildContext {
  std::filesystem::path dir;
  std::vector<ContextEntry> entries;  // sorted by path
};

// Writes a self-contained build context into `dir`: the Dockerfile, the requirements file, and the
// files and directories that `build.copy` names, below app/ with their relative layout — nothing
// else from the working directory. Symbolic links are followed when they stay inside the
// manifest's directory and refused otherwise. Modes are normalised and modification times fixed,
// so the same inputs give the same context on any machine. The directory is replaced as a whole:
// readers never see a half-written context.
// With `runtime_binary`, the simulation runtime is added as k_context_runtime.
[[nodiscard]] Result<BuildContext> assemble_build_context(
    const manifest::ServiceManifest& service,
    const std::string& dockerfile,
    const std::filesystem::path& dir,
    const std::optional<std::filesystem::path>& runtime_binary = std::nullopt);

// A canonical, documented listing of the context (one JSON array per entry) for digests.
[[nodiscard]] std::string context_listing(const BuildContext& context);

}  // namespace sconectl::image
