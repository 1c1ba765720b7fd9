#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, checks the
# formatting and the module layering, builds with warnings as errors, runs unit and integration
# tests, then builds again with AddressSanitizer and UndefinedBehaviorSanitizer and runs the tests
# once more.
#
# The second pass runs from a copy of the repository (its tracked and untracked, not ignored files)
# in a directory of its own with nothing beside it, so a test that needs a file from outside the
# repository without guarding for it fails there, as it would in a user's clone.
#   scripts/test.sh [--no-sanitize]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    *) echo "usage: scripts/test.sh [--no-sanitize]" >&2; exit 2 ;;
  esac
done

# Each step names the time since the start (bash's SECONDS), so a slow phase shows in the log.
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

step "installing dependencies"
scripts/install-deps.sh

step "checking formatting (clang-format)"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src include tests -name '*.[ch]pp')
clang-format --dry-run --Werror "${sources[@]}"

step "checking the module layering (scripts/check-layers.py)"
python3 scripts/check-layers.py

step "checking file-local names for the unity build (scripts/check-unity.py)"
python3 scripts/check-unity.py

step "checking shell pipelines under pipefail (scripts/check-pipelines.py)"
python3 scripts/check-pipelines.py "$root"

step "building (warnings are errors)"
scripts/build.sh "$root/build/test"

step "clang-tidy over src/ (scripts/clang-tidy.py; checks in .clang-tidy)"
python3 scripts/clang-tidy.py "$root/build/test"

step "starting a local Kubernetes (scripts/infra/kubernetes.sh; the first run builds it: see docs/kubernetes.md)"
if ! scripts/infra/kubernetes.sh; then
  [ "${CI:-}" = true ] && { echo "test.sh: the local Kubernetes did not start" >&2; exit 1; }
  echo "test.sh: the local Kubernetes did not start; its tests will say so and skip" >&2
fi

step "running tests"
(cd "$root/build/test" && ctest --output-on-failure --timeout 300 -j"$(nproc)")

if [ "$sanitize" = 1 ]; then
  step "copying the repository to a directory with nothing beside it"
  isolated=$(scripts/isolated-copy.sh)
  echo "isolated copy: $isolated" >&2
  step "building the copy with ASan and UBSan"
  # The benchmarks were built (and so checked) by the first pass; no test runs them.
  "$isolated/scripts/build.sh" "$isolated/build/sanitize" -DSCONECTL_SANITIZE=ON \
    -DSCONECTL_BUILD_BENCHMARKS=OFF
  step "running the copy's tests under the sanitizers"
  (cd "$isolated/build/sanitize" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure --timeout 300 -j"$(nproc)")
fi
step "done"
