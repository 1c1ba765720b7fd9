#!/usr/bin/env bash
# The first build a user waits for: a clean build of sconectl and its runtime, as scripts/build.sh
# makes it (Ninja, RelWithDebInfo, warnings as errors, every core), with ccache off, of this
# working tree and, as the baseline measured in the same run, of another commit.
#   bench/build-time.sh [BASELINE_REV]     time this tree's build, then BASELINE_REV's (if given)
#   bench/build-time.sh --profile [REV]    where the time goes: the same build (of this tree, or of
#                                          commit REV) with clang and -ftime-trace, summed by
#                                          bench/build_trace.py
# Builds go to a temporary directory that is removed afterwards. Nothing else should run on the
# machine meanwhile: the figure is wall time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=(--target sconectl --target sconectl-runtime-sim)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# copy_tree REV: copies the files of commit REV, or of the working tree (tracked and untracked, not
# ignored; scripts/isolated-copy.sh) when REV is "worktree", and prints where.
copy_tree() {
  local parent
  parent=$(mktemp -d -p "$work")
  if [ "$1" = worktree ]; then
    "$root/scripts/isolated-copy.sh" "$parent"
  else
    mkdir "$parent/sconectl"
    git -C "$root" archive --format=tar "$1" | tar --extract --file=- -C "$parent/sconectl"
    printf '%s\n' "$parent/sconectl"
  fi
}

# timed_build LABEL SRC [cmake arguments...]: configure, then time the build of the targets.
timed_build() {
  local label=$1 src=$2
  shift 2
  echo "build-time: configuring $label" >&2
  CCACHE_DISABLE=1 cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCONECTL_WARNINGS_AS_ERRORS=ON "$@" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log" >&2; exit 1; }
  echo "build-time: building $label (sconectl, sconectl-runtime-sim; progress below)" >&2
  local load_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  # GNU time: wall, user and system seconds of the build and everything it started.
  CCACHE_DISABLE=1 /usr/bin/time -f '%e %U %S' -o "$work/time" \
    cmake --build "$src/build" "${targets[@]}" -- -j"$(nproc)" >&2
  local steps
  steps=$(grep -vc '^#' "$src/build/.ninja_log")
  read -r wall user sys <"$work/time"
  printf '%s\n' "$wall" >"$work/wall-$label"
  echo "build $label: ${wall} s wall, ${user} s user, ${sys} s system, $steps steps," \
    "$(nproc) jobs; load average before: $load_before"
}

if [ "${1:-}" = --profile ]; then
  compiler=$(command -v clang++ || command -v clang++-14 || true)
  [ -n "$compiler" ] || { echo "build-time: --profile needs clang++" >&2; exit 1; }
  src=$(copy_tree "${2:-worktree}")
  # Warnings stay warnings here: clang warns about things GCC does not, and this is a profile.
  echo "build-time: configuring a clang build with -ftime-trace" >&2
  CCACHE_DISABLE=1 cmake -S "$src" -B "$src/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$compiler" \
    -DCMAKE_CXX_FLAGS=-ftime-trace >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log" >&2; exit 1; }
  echo "build-time: building with $compiler -ftime-trace (progress below)" >&2
  CCACHE_DISABLE=1 cmake --build "$src/build" "${targets[@]}" -- -j"$(nproc)" >&2
  python3 "$root/bench/build_trace.py" "$src/build" --source-root "$src/"
  exit 0
fi

timed_build current "$(copy_tree worktree)"
if [ -n "${1:-}" ]; then
  rev=$(git -C "$root" rev-parse --short "$1")
  timed_build "baseline-$rev" "$(copy_tree "$1")"
  python3 -c 'import sys; c, b = float(sys.argv[1]), float(sys.argv[2]); print(f"build: this tree takes {c / b:.2f} of the baseline'"'"'s wall time ({b / c:.2f}x as fast)")' \
    "$(cat "$work/wall-current")" "$(cat "$work/wall-baseline-$rev")"
fi
