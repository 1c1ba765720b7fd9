# shellcheck shell=bash
# Shared by the integration test scripts; sourced, never run. The sourcing script sets:
#   test_name  prefix of every message (e.g. cas_test)
#   work       its temporary directory
#   sconectl   the binary under test
# Exit codes of the tests: 0 passed, 1 failed, 125 skipped (a component cannot start here; never
# in CI, where CI=true turns every skip into a failure).

# skip_or_fail REASON
skip_or_fail() {
  echo "$test_name: SKIPPED: $1" >&2
  if [ "${CI:-}" = true ]; then
    echo "$test_name: in CI (CI=true) every component must start: this is a failure" >&2
    exit 1
  fi
  exit 125
}

# fail MESSAGE: also shows the end of the local CAS's log when one ran.
fail() {
  echo "$test_name: FAILED: $*" >&2
  if [ -s "$work/cas.log" ]; then
    echo "--- CAS log (last 20 lines)" >&2
    tail -n 20 "$work/cas.log" >&2
  fi
  exit 1
}

step() { echo "$test_name: $*"; }

# run NAME ARGS...: sconectl -v --format json ARGS, stdout kept as $logs/NAME.json and stderr as
# $logs/NAME.err; a failure ends the test with the last lines of that log.
run() {
  local name=$1; shift
  "$sconectl" -v --format json "$@" >"$logs/$name.json" 2>"$logs/$name.err" ||
    fail "sconectl $*: $(tail -n 5 "$logs/$name.err")"
}

# json_field FILE EXPRESSION: a Python expression over the document `d`.
json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# start_infra: Docker Engine, the TLS registry and the Python base image (scripts/infra); sets
# DOCKER_HOST, REGISTRY, DOCKER_CONFIG (exported) and base_image, or skips.
start_infra() {
  "$root/scripts/infra/docker.sh" >"$work/docker.log" 2>&1 || skip_or_fail "no Docker Engine: $(tail -3 "$work/docker.log")"
  eval "$("$root/scripts/infra/docker.sh" --print-env)"
  local registry_env
  registry_env=$("$root/scripts/infra/registry.sh" --print-env 2>"$work/registry.log") ||
    skip_or_fail "no local registry: $(tail -3 "$work/registry.log")"
  eval "$registry_env"
  export DOCKER_CONFIG
  base_image=$("$root/scripts/infra/base-image.sh" 2>"$work/base.log") ||
    skip_or_fail "no local base image: $(tail -3 "$work/base.log")"
}

# start_cas [LISTEN [FLAGS...]]: `cas serve` in the background with its data in $cas_data (default
# $work/cas-data), log in $work/cas.log; sources its CAS_ADDR, CAS_KEY and CAS_CERT lines and sets
# server_pid. stop_cas [SIGNAL] stops it. The caller's EXIT trap should call stop_cas -KILL.
server_pid=
start_cas() {
  local listen=${1:-127.0.0.1:0}
  : "${cas_data:=$work/cas-data}"
  : >"$work/cas.env"
  "$sconectl" -v cas serve --listen "$listen" --data-dir "$cas_data" "${@:2}" >"$work/cas.env" 2>>"$work/cas.log" &
  server_pid=$!
  for _ in $(seq 600); do
    if grep -q '^CAS_CERT=' "$work/cas.env"; then
      # shellcheck disable=SC1091
      . "$work/cas.env"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "cas serve exited: $(tail -n 5 "$work/cas.log")"
    sleep 0.1
  done
  fail "cas serve did not print its address within 60 s"
}
stop_cas() {
  if [ -n "$server_pid" ]; then
    kill "${1:--TERM}" "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
