#pragma once

namespace sconectl::model {

// Whether a service's enclave runs in production mode or in debug mode (which lets a debugger in:
// sessions for it must tolerate `debug-mode`, and only `--mode debug` generates them).
enum class EnclaveMode { production, debug };

}  // namespace sconectl::model
