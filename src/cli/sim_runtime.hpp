#pragma once

// Private to the CLI: where `apply --runtime sim` takes the simulation runtime from.

#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>

namespace sconectl::cli {

// The runtime executable, in this order:
//  - $SCONECTL_RUNTIME_SIM when set;
//  - the installed layout: <bindir>/sconectl runs <libexecdir>/sconectl/sconectl-runtime-sim,
//    the path from bindir to it fixed when the build was configured (so `cmake --install
//    --prefix` and DESTDIR move both together);
//  - the build tree: runtime/sconectl-runtime-sim beside the sconectl being built.
// Only the first existing file counts; none is a usage error that says what to do.
[[nodiscard]] Result<std::filesystem::path> find_sim_runtime(
    const manifest::VariableLookup& variables);

}  // namespace sconectl::cli
