#pragma once

#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <string>

// Where `apply --runtime sim` takes the simulation runtime it copies into images from.
namespace sconectl::image {

// The runtime executable, in this order:
//  - $SCONECTL_RUNTIME_SIM when set;
//  - the installed layout: <bindir>/sconectl runs <libexecdir>/sconectl/sconectl-runtime-sim;
//    `from_bindir` is that path relative to bindir, fixed when the build was configured (so
//    `cmake --install --prefix` and DESTDIR move both together);
//  - the build tree: runtime/sconectl-runtime-sim beside the sconectl being built.
// `executable`: the running sconectl (/proc/self/exe, a link, is followed).
// Only the first existing file counts; none is a usage error that says what to do.
[[nodiscard]] Result<std::filesystem::path> find_sim_runtime(
    const manifest::VariableLookup& variables,
    const std::string& from_bindir,
    const std::filesystem::path& executable = "/proc/self/exe");

}  // namespace sconectl::image
