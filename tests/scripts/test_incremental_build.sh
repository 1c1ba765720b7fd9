#!/usr/bin/env bash
# The build stays correct as files change (a test of the build scripts, not of timing). In a copy
# of the repository, scripts/build.sh builds the lower layer (sconectl_base, ten files, in unity
# batches of four) from a clean tree. Then:
#   - an unchanged tree rebuilds nothing;
#   - touching a header that one file of the layer includes (util/base64.hpp) recompiles that
#     file's batch, and only it;
#   - a header change that cannot compile fails the next build, naming the header; repairing it
#     builds again;
#   - a changed source file recompiles its batch.
#   tests/scripts/test_incremental_build.sh REPO_ROOT
set -euo pipefail
root=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/build.log"
# The repository's files, as the sanitizer pass copies them, in a directory of their own.
copy=$("$root/scripts/isolated-copy.sh" "$work/tree")
build="$copy/build"

fail() {
  echo "FAIL: $*" >&2
  echo "--- last build output:" >&2
  cat "$log" >&2
  exit 1
}
# build: scripts/build.sh for sconectl_base; ninja's lines go to $log. Objects are compiled, not
# taken from ccache, so a step that should run does run.
build() {
  CCACHE_DISABLE=1 SCONECTL_BUILD_TARGETS=sconectl_base "$copy/scripts/build.sh" "$build" \
    -DSCONECTL_UNITY_BUILD=ON -DSCONECTL_UNITY_BATCH_SIZE=4 -DSCONECTL_BUILD_TESTS=OFF \
    -DSCONECTL_BUILD_BENCHMARKS=OFF >"$log" 2>&1
}
# compiled: the unity batches the last build compiled, by name (unity_0_cxx.cxx ...), sorted.
compiled() {
  grep -o 'sconectl_base\.dir/Unity/unity_[0-9]*_cxx\.cxx\.o' "$log" | sed 's|.*/||; s|\.o$||' |
    sort -u | tr '\n' ' '
}
# batch_of FILE: the batch of sconectl_base that includes FILE.
batch_of() {
  grep -l "$1\"" "$build"/src/CMakeFiles/sconectl_base.dir/Unity/unity_*_cxx.cxx | sed 's|.*/||'
}

echo "building sconectl_base from a clean tree (unity batches of 4)" >&2
build || fail "the clean build failed"
batches=$(find "$build/src/CMakeFiles/sconectl_base.dir/Unity" -name 'unity_*_cxx.cxx' | wc -l)
[ "$batches" -eq 3 ] || fail "expected 3 unity batches of sconectl_base's 10 files, found $batches"
[ -f "$build/src/libsconectl_base.a" ] || fail "no libsconectl_base.a after the clean build"

build || fail "the unchanged rebuild failed"
grep -q 'ninja: no work to do' "$log" || fail "an unchanged tree rebuilt something"

header="$copy/include/sconectl/util/base64.hpp"
expected="$(batch_of src/util/base64.cpp) "
touch "$header"
build || fail "the rebuild after touching base64.hpp failed"
[ "$(compiled)" = "$expected" ] ||
  fail "touching base64.hpp compiled '$(compiled)', expected '$expected' (the batch of base64.cpp)"

cp "$header" "$work/base64.hpp.orig"
printf '\nstatic_assert(false, "seeded: this header no longer compiles");\n' >>"$header"
if build; then fail "a header that cannot compile did not fail the build"; fi
grep -q 'seeded: this header no longer compiles' "$log" || fail "the failed build did not name the seeded error"
cp "$work/base64.hpp.orig" "$header"
build || fail "the build failed after the header was repaired"
[ "$(compiled)" = "$expected" ] || fail "the repair compiled '$(compiled)', expected '$expected'"

source_file="$copy/src/model/content_measurement.cpp"
expected="$(batch_of src/model/content_measurement.cpp) "
printf '\n// changed\n' >>"$source_file"
build || fail "the rebuild after changing content_measurement.cpp failed"
[ "$(compiled)" = "$expected" ] ||
  fail "changing content_measurement.cpp compiled '$(compiled)', expected '$expected'"

echo "incremental build: clean build, no-op, a touched header, a broken and repaired header, a changed source: each rebuilt what it should"
