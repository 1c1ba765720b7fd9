#include "sim_runtime.hpp"

#include "sconectl/runtime/runtime.hpp"

#include <string>
#include <vector>

#ifndef SCONECTL_RUNTIME_FROM_BINDIR
#error "SCONECTL_RUNTIME_FROM_BINDIR must be set by the build (src/CMakeLists.txt)"
#endif

namespace sconectl::cli {

Result<std::filesystem::path> find_sim_runtime(const manifest::VariableLookup& variables)
{
  if (const auto given = variables("SCONECTL_RUNTIME_SIM"); given && !given->empty()) {
    return std::filesystem::path(*given);
  }
  // The directory this executable was started from (not a search: one fixed location each).
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return fail(ErrorKind::io,
                "--runtime sim: cannot tell where sconectl is installed (/proc/self/exe: "
                    + ec.message() + "); set SCONECTL_RUNTIME_SIM to the runtime's path");
  }
  const auto bindir = self.parent_path();
  const std::vector<std::filesystem::path> candidates{
      (bindir / SCONECTL_RUNTIME_FROM_BINDIR).lexically_normal(),
      bindir / "runtime" / runtime::k_runtime_name};
  for (const auto& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, ec)) {
      return candidate;
    }
  }
  return fail(ErrorKind::usage,
              std::string("--runtime sim: cannot find ") + runtime::k_runtime_name + " at "
                  + candidates.front().string()
                  + " (installed) nor beside sconectl in the build tree; build it (cmake target "
                    "sconectl-runtime-sim), install it, or set SCONECTL_RUNTIME_SIM to its path");
}

}  // namespace sconectl::cli
