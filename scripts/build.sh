#!/usr/bin/env bash
# Configures and builds sconectl into a build directory. Used by the other scripts. The compiler's
# progress ([n/N]) goes to stderr.
#   scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
#   SCONECTL_BUILD_TARGETS="sconectl ..."   build only these targets (default: everything)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build}
shift || true

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCONECTL_WARNINGS_AS_ERRORS=ON "$@" >&2
fi
targets=()
for target in ${SCONECTL_BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" "${targets[@]}" -- -j"$(nproc)" >&2
