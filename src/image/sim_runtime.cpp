#include "sconectl/image/sim_runtime.hpp"

#include "sconectl/model/content_measurement.hpp"

#include <string>
#include <vector>

namespace sconectl::image {

Result<std::filesystem::path> find_sim_runtime(const manifest::VariableLookup& variables,
                                               const std::string& from_bindir,
                                               const std::filesystem::path& executable)
{
  if (const auto given = variables("SCONECTL_RUNTIME_SIM"); given && !given->empty()) {
    return std::filesystem::path(*given);
  }
  // The directory this executable was started from (not a search: one fixed location each).
  std::error_code ec;
  const auto self = std::filesystem::is_symlink(executable, ec)
                        ? std::filesystem::read_symlink(executable, ec)
                        : executable;
  if (ec) {
    return fail(ErrorKind::io,
                "--runtime sim: cannot tell where sconectl is installed (" + executable.string()
                    + ": " + ec.message() + "); set SCONECTL_RUNTIME_SIM to the runtime's path");
  }
  const auto bindir = self.parent_path();
  const std::vector<std::filesystem::path> candidates{
      (bindir / from_bindir).lexically_normal(), bindir / "runtime" / model::k_sim_runtime_name};
  for (const auto& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, ec)) {
      return candidate;
    }
  }
  return fail(ErrorKind::usage,
              std::string("--runtime sim: cannot find ") + model::k_sim_runtime_name + " at "
                  + candidates.front().string()
                  + " (installed) nor beside sconectl in the build tree; build it (cmake target "
                    "sconectl-runtime-sim), install it, or set SCONECTL_RUNTIME_SIM to its path");
}

}  // namespace sconectl::image
