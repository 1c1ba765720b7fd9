#!/usr/bin/env bash
# Scontain's exercise scripts run unchanged with sconectl in place of `scone`, against the local CAS
# over mutual TLS, with only the CAS address changed (scone-cas.cf:8081 in their curl calls):
#  - each script of tests/corpus/sessions/scripts runs in a directory of its own named as in
#    Scontain's repository (Exercise2, ...; they read each other's state.env) with a `scone` on
#    PATH that is sconectl, the client state in ~/.cas/config.json where they read `.identity`, and
#    must end with its own "OK." and exit 0;
#  - it runs a second time, as the scripts are written to be run again: the second run reads what
#    the first created and creates nothing;
#  - what they created, computed and fetched is checked against the CAS (`sconectl session get`).
# Exercise 4 reads the state file exercise 3 wrote (its own directory's, in Scontain's repository:
# the test copies it there), upgrades the namespace with `scone session create` on a file that
# names a predecessor, and walks the history until a version's predecessor is None.
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

command -v jq >/dev/null || skip_or_fail "jq is not installed (the exercises use it; scripts/install-deps.sh installs it)"
start_cas
# `scone` is sconectl; the scripts source ~/.bashrc (where Scontain's exercise 0 puts an alias) and
# read the client identity from ~/.cas/config.json, sconectl's default client state too.
mkdir -p "$work/bin" "$work/home"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$sconectl" >"$work/bin/scone"
chmod +x "$work/bin/scone"
: >"$work/home/.bashrc"
unset SCONECTL_CAS_CONFIG SCONE_CLI_CONFIG
export HOME="$work/home" PATH="$work/bin:$PATH" USER=corpus
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" --default >"$work/attest.log" 2>&1 ||
  fail "cas attest: $(tail -n 5 "$work/attest.log")"
[ -s "$HOME/.cas/config.json" ] || fail "cas attest wrote no ~/.cas/config.json"
step "local CAS $CAS_ADDR is the default CAS"

# run_script DIR RUN: runs the script in $work/DIR, output in $work/DIR/RUN.log.
run_script() {
  local dir="$work/$1"
  (cd "$dir" && timeout 120 bash ./solution.sh) >"$dir/$2.log" 2>&1 ||
    fail "$1 ($2 run) exited $?: $(tail -n 8 "$dir/$2.log")"
  [ "$(tail -n 1 "$dir/$2.log")" = "OK." ] || fail "$1 ($2 run) did not end with OK.: $(tail -n 5 "$dir/$2.log")"
}

# state DIR EXPRESSION: EXPRESSION evaluated after sourcing DIR's state.env.
state() { (. "$work/$1/state.env" && eval "printf '%s' \"$2\""); }

count=0
for script in "$root"/tests/corpus/sessions/scripts/exercise*-solution.sh; do
  name=$(basename "$script" -solution.sh)
  dir="Exercise${name#exercise}"
  mkdir -p "$work/$dir"
  # Only the CAS address changes.
  sed "s/scone-cas\.cf:8081/$CAS_ADDR/g" "$script" >"$work/$dir/solution.sh"
  if [ "$dir" = Exercise4 ]; then
    cp "$work/Exercise3/state.env" "$work/Exercise4/state.env"
  fi
  run_script "$dir" first
  run_script "$dir" second
  case "$dir" in
    Exercise2)
      # A namespace named in state.env, created once with the hash it recorded; the second run
      # found it (`session read`) and recorded the same hash.
      ns=$(state "$dir" '$NS')
      ns_hash=$(state "$dir" '$NAMESPACE_SESSION_HASH')
      [[ "$ns" == my_exercise-corpus-* ]] || fail "$dir: state.env names no namespace: $ns"
      [[ "$ns_hash" =~ ^[0-9a-f]{64}$ ]] || fail "$dir: state.env records no hash: $ns_hash"
      grep "created session $ns with hash $ns_hash" "$work/$dir/first.log" >/dev/null ||
        fail "$dir: the first run did not create $ns"
      if grep "created session" "$work/$dir/second.log" >/dev/null; then
        fail "$dir: the second run created the namespace again"
      fi
      "$sconectl" session get "$ns" >"$work/$dir/get.yaml" 2>"$work/$dir/get.err" ||
        fail "$dir: session get $ns: $(cat "$work/$dir/get.err")"
      grep "0.2" "$work/$dir/get.yaml" >/dev/null || fail "$dir: $ns read back without its version"
      cmp -s "$work/$dir/get.yaml" "$work/$dir/session_read.yml" ||
        fail "$dir: \`scone session read\` printed other than \`sconectl session get\`"
      ;;
    Exercise3)
      # `scone session verify` of what `session read` printed is the hash exercise 2 recorded; the
      # session fetched by name and hash with curl (the CAS certificate from `scone cas
      # show-certificate`, the client's from config.json) is the one the CAS holds.
      [ "$(state "$dir" '$NS')" = "$ns" ] || fail "$dir: state.env names another namespace"
      [ "$(state "$dir" '$NAMESPACE_SESSION_HASH')" = "$ns_hash" ] ||
        fail "$dir: \`scone session verify\` computed $(state "$dir" '$NAMESPACE_SESSION_HASH'), not $ns_hash"
      grep "Namespace hash is as expected: $ns_hash" "$work/$dir/first.log" >/dev/null ||
        fail "$dir: the hash was not as expected: $(grep Namespace "$work/$dir/first.log")"
      cmp -s "$work/$dir/cas_cert.crt" "$CAS_CERT" ||
        fail "$dir: \`scone cas show-certificate\` printed other than the CAS's certificate"
      # (jq -r adds a newline of its own)
      [ "$(cat "$work/$dir/read_session.txt")" = "$(cat "$work/Exercise2/get.yaml")" ] ||
        fail "$dir: curl by name and hash returned other than the session: $(head -c 300 "$work/$dir/read_session.txt")"
      ;;
    Exercise4)
      # The first run upgraded the namespace to 0.3 on exercise 2's version (a create naming a
      # predecessor) and walked back to it; the second found it upgraded and created nothing.
      current=$("$sconectl" --format json session get "$ns" | jq -r .hash)
      [[ "$current" =~ ^[0-9a-f]{64}$ ]] && [ "$current" != "$ns_hash" ] ||
        fail "$dir: the namespace was not updated: $current"
      grep "created session $ns with hash $current" "$work/$dir/first.log" >/dev/null ||
        fail "$dir: the first run did not create the 0.3 version $current: $(grep -i session "$work/$dir/first.log" | tail -n 3)"
      grep -x "PREDECESSOR is $ns_hash" "$work/$dir/first.log" >/dev/null && grep -x "No more PREDECESSORs" "$work/$dir/first.log" >/dev/null ||
        fail "$dir: the history walk did not reach exercise 2's version and stop: $(grep PREDECESSOR "$work/$dir/first.log")"
      grep "Namespace has already been upgraded to version 0.3" "$work/$dir/second.log" >/dev/null ||
        fail "$dir: the second run did not find the upgrade"
      if grep "created session" "$work/$dir/second.log" >/dev/null; then
        fail "$dir: the second run created the namespace again"
      fi
      [ "$(state "$dir" '$NAMESPACE_SESSION_HASH')" = "$current" ] ||
        fail "$dir: state.env records $(state "$dir" '$NAMESPACE_SESSION_HASH'), not the current $current"
      ;;
    Exercise5)
      # A session in the namespace with a public and a private value; the second run found it and
      # `scone session verify` gave the hash its creation did.
      session=$(state "$dir" '$SESSION')
      session_hash=$(state "$dir" '$SESSION_HASH')
      [ "$session" = "$ns/private_public_values" ] || fail "$dir: state.env names session $session"
      grep "created session $session with hash $session_hash" "$work/$dir/first.log" >/dev/null ||
        fail "$dir: the first run did not create $session with the hash the second run computed ($session_hash)"
      if grep "created session" "$work/$dir/second.log" >/dev/null; then
        fail "$dir: the second run created the session again"
      fi
      for run in first second; do
        grep "Value is as expected: 42" "$work/$dir/$run.log" >/dev/null ||
          fail "$dir ($run run): the public value was not 42: $(grep Value "$work/$dir/$run.log")"
        [ "$(grep -c "Got error 405 - as expected." "$work/$dir/$run.log")" = 2 ] ||
          fail "$dir ($run run): curl -I on the private value was not 405 with and without a certificate"
      done
      "$sconectl" session get "$session" >/dev/null 2>"$work/$dir/get.err" ||
        fail "$dir: session get $session: $(cat "$work/$dir/get.err")"
      ;;
    *) fail "$dir: no checks for this script: add them here" ;;
  esac
  step "$dir: ran twice with sconectl as scone"
  count=$((count + 1))
done
[ "$count" -ge 4 ] || fail "expected the scripts of exercises 2, 3, 4 and 5 in tests/corpus/sessions/scripts, ran $count"
step "PASSED ($count scripts)"
