#!/usr/bin/env bash
# Scontain's exercise scripts that drive the CAS only with `scone session create/read` (and curl)
# run unchanged with sconectl in place of `scone`, against the local CAS over mutual TLS:
#  - each script of tests/corpus/sessions/scripts runs in a directory of its own with a `scone`
#    on PATH that is sconectl, must end with its own "OK." and exit 0;
#  - it runs a second time, as the scripts are written to be run again: the second run reads what
#    the first created and creates nothing;
#  - what the first run created is read back with `sconectl session get`.
#   tests/integration/scontain_scripts_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=scontain_scripts_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
cleanup() {
  stop_cas -KILL
  rm -rf "$work"
}
trap cleanup EXIT

start_cas
export SCONECTL_CAS_CONFIG="$work/client"
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" --default >"$work/attest.log" 2>&1 ||
  fail "cas attest: $(tail -n 5 "$work/attest.log")"
step "local CAS $CAS_ADDR is the default CAS"

# `scone` is sconectl; the scripts source ~/.bashrc (where Scontain's exercise 0 puts an alias).
mkdir -p "$work/bin" "$work/home"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sconectl" >"$work/bin/scone"
chmod +x "$work/bin/scone"
: >"$work/home/.bashrc"
export HOME="$work/home" PATH="$work/bin:$PATH" USER=corpus

# run_script NAME RUN: runs the script in $work/NAME, output in $work/NAME/RUN.log.
run_script() {
  local dir="$work/$1"
  (cd "$dir" && timeout 120 bash ./solution.sh) >"$dir/$2.log" 2>&1 ||
    fail "$1 ($2 run) exited $?: $(tail -n 8 "$dir/$2.log")"
  [ "$(tail -n 1 "$dir/$2.log")" = "OK." ] || fail "$1 ($2 run) did not end with OK.: $(tail -n 5 "$dir/$2.log")"
}

count=0
for script in "$root"/tests/corpus/sessions/scripts/*.sh; do
  name=$(basename "$script" .sh)
  mkdir -p "$work/$name"
  cp "$script" "$work/$name/solution.sh"
  run_script "$name" first
  run_script "$name" second
  case "$name" in
    exercise2-solution)
      # A namespace named in state.env, created once with the hash it recorded; the second run
      # found it (`session read`) and recorded the same hash.
      # shellcheck disable=SC1091
      (
        . "$work/$name/state.env"
        [[ "$NS" == my_exercise-corpus-* ]] || fail "$name: state.env names no namespace: $NS"
        [[ "$NAMESPACE_SESSION_HASH" =~ ^[0-9a-f]{64}$ ]] ||
          fail "$name: state.env records no hash: $NAMESPACE_SESSION_HASH"
        grep -q "created session $NS with hash $NAMESPACE_SESSION_HASH" "$work/$name/first.log" ||
          fail "$name: the first run did not create $NS"
        if grep -q "created session" "$work/$name/second.log"; then
          fail "$name: the second run created the namespace again"
        fi
        "$sconectl" session get "$NS" >"$work/$name/get.yaml" 2>"$work/$name/get.err" ||
          fail "$name: session get $NS: $(cat "$work/$name/get.err")"
        grep -q "0.2" "$work/$name/get.yaml" || fail "$name: $NS read back without its version"
        cmp -s "$work/$name/get.yaml" "$work/$name/session_read.yml" ||
          fail "$name: \`scone session read\` printed other than \`sconectl session get\`"
      )
      ;;
    *) fail "$name: no checks for this script: add them here" ;;
  esac
  step "$name: ran twice with sconectl as scone"
  count=$((count + 1))
done
[ "$count" -ge 1 ] || fail "no scripts in tests/corpus/sessions/scripts"
step "PASSED ($count scripts)"
