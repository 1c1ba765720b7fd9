#!/usr/bin/env bash
# Ensures a local CAS (`sconectl cas serve`) on 127.0.0.1, for the example and the tests. It
# keeps its identity and sessions in a data directory across runs, so its key hash stays the
# same. Idempotent and quiet on success. It configures programs on the simulation runtime only
# (no SGX): see docs/attestation.md and docs/security.md.
#
# Usage: scripts/infra/cas.sh SCONECTL_BINARY [--print-env | --stop]
#   (no option)  ensure the CAS answers, print nothing
#   --print-env  ensure it, then print (eval-safe) KEY=VALUE lines:
#                  CAS_ADDR   127.0.0.1:PORT
#                  CAS_KEY    the CAS's key hash, to pin it (mesh cas_key, --cas-key)
#                  CAS_CERT   its certificate (PEM), for curl --cacert
#   --stop       stop the CAS this script started on PORT (its data stays)
#
# Environment:
#   SCONECTL_INFRA_DIR   state directory (default /tmp/sconectl-infra); the CAS lives in
#                        $SCONECTL_INFRA_DIR/cas (data-PORT/, cas-PORT.log, cas-PORT.pid, cas-PORT.env)
#   SCONECTL_CAS_PORT    port (default 8081)
#   SCONECTL_CAS_HOST    address to listen on (default 127.0.0.1); the local Kubernetes's pods
#                        reach the host on its pod bridge address (scripts/infra/kubernetes.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

case "${1:-}" in
  -h | --help | "") sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; [ -n "${1:-}" ]; exit ;;
esac
sconectl=$1
[ -x "$sconectl" ] || die "'$sconectl' is not an executable sconectl binary."
mode="ensure"
case "${2:-}" in
  "") ;;
  --print-env) mode="print-env" ;;
  --stop) mode="stop" ;;
  *) die "unknown option '$2'; use --print-env, --stop or no option." ;;
esac

port="${SCONECTL_CAS_PORT:-8081}"
case "$port" in
  '' | *[!0-9]*) die "SCONECTL_CAS_PORT='$port' is not a port number." ;;
esac
host="${SCONECTL_CAS_HOST:-127.0.0.1}"
id=$port
[ "$host" = 127.0.0.1 ] || id="$host-$port"
dir="$INFRA_DIR/cas"
data="$dir/data-$id"
log="$dir/cas-$id.log"
pid_file="$dir/cas-$id.pid"
env_file="$dir/cas-$id.env"
mkdir -p "$dir"
chmod 700 "$dir"

running_pid() {
  local pid
  pid=$(cat "$pid_file" 2>/dev/null || true)
  if alive_named "$pid" sconectl; then echo "$pid"; fi
}

answers() {
  [ -s "$env_file" ] || return 1
  # shellcheck disable=SC1090
  (. "$env_file" && curl -sf --max-time 2 --cacert "$CAS_CERT" "https://$CAS_ADDR/v1/version" >/dev/null)
}

if [ "$mode" = stop ]; then
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    kill "$pid"
    wait_until 10 gone "$pid" || die "the CAS (pid $pid) did not stop within 10 s."
  fi
  rm -f "$pid_file" "$env_file"
  exit 0
fi

apt_install curl
take_lock "cas-$id"
if [ -z "$(running_pid)" ] || ! answers; then
  if pid=$(running_pid) && [ -n "$pid" ]; then
    die "a CAS started here (pid $pid) runs on port $port but does not answer; stop it with $INFRA_SELF $sconectl --stop." "$log"
  fi
  note "starting a local CAS on $host:$port, data in $data"
  : >"$env_file"
  # setsid: the CAS outlives this script and the terminal; 9>&-: it must not hold our lock.
  sans=()
  [ "$host" = 127.0.0.1 ] || sans=(--san "$host")
  setsid "$sconectl" -v cas serve --listen "$host:$port" --data-dir "$data" "${sans[@]}" \
    >"$env_file" 2>>"$log" </dev/null 9>&- &
  echo $! >"$pid_file"
  wait_until 15 answers || die "the local CAS did not answer on $host:$port within 15 s (is the port taken?)." "$log"
fi

if [ "$mode" = print-env ]; then
  # shellcheck disable=SC1090
  . "$env_file"
  print_env CAS_ADDR "$CAS_ADDR" CAS_KEY "$CAS_KEY" CAS_CERT "$CAS_CERT"
fi
