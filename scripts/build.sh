#!/usr/bin/env bash
# Configures and builds sconectl into a build directory. Used by the other scripts.
#   scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build}
shift || true

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCONECTL_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
fi
cmake --build "$build_dir" -- -j"$(nproc)" >&2
