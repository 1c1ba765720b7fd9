#pragma once

namespace sconectl::model {

// Whether a service's enclave runs in production mode or in debug mode (which lets a debugger in:
// sessions for it must tolerate `debug-mode`, and only `--mode debug` generates them).
enum class EnclaveMode { production, debug };

// The `security.attestation.tolerate` value (and mesh `policy.tolerate` value) without which the
// local CAS configures no program that runs on the simulation runtime (no SGX). The last of
// manifest::tolerations().
inline constexpr const char* k_simulation_toleration = "simulation";

}  // namespace sconectl::model
