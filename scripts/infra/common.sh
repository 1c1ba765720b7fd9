# shellcheck shell=bash
# Shared helpers for scripts/infra/*.sh. Sourced, never run. Each script stays usable on its own:
# it sources this file from its own directory.
#
# Environment:
#   SCONECTL_INFRA_DIR      where state, logs, certificates and caches live (default /tmp/sconectl-infra)
#   SCONECTL_INFRA_VERBOSE  set to 1 to get progress messages on stderr (default: quiet on success)

INFRA_DIR="${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}"
INFRA_SELF="scripts/infra/$(basename "$0")"

mkdir -p "$INFRA_DIR"

# Any failure that no explicit check caught still ends with a message, never silently.
set -E
# shellcheck disable=SC2154 # infra_rc is set inside the trap
trap 'infra_rc=$?; printf "%s: error: unexpected failure (exit %s) of \`%s\` at line %s; this is a bug in the script.\n" "$INFRA_SELF" "$infra_rc" "$BASH_COMMAND" "$LINENO" >&2; exit "$infra_rc"' ERR

# die MESSAGE [LOGFILE]: one paragraph on stderr, then the last lines of LOGFILE if given, exit 1.
die() {
  local message="$1" log="${2:-}"
  printf '%s: error: %s\n' "$INFRA_SELF" "$message" | fold -s -w 100 >&2
  if [ -n "$log" ] && [ -s "$log" ]; then
    printf '%s: last lines of %s:\n' "$INFRA_SELF" "$log" >&2
    # (dockerd's grpc chatter hides its one useful line)
    grep -v 'module=grpc' "$log" | tail -n 15 | sed 's/^/  | /' >&2
  fi
  exit 1
}

note() {
  if [ "${SCONECTL_INFRA_VERBOSE:-0}" = 1 ]; then printf '%s: %s\n' "$INFRA_SELF" "$*" >&2; fi
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages, starts daemons and writes /etc/docker); run it with sudo or as root."
}

# take_lock NAME [SECONDS]: serialise concurrent runs (tests may call the scripts in parallel).
# The lock is held on fd 9 until the script exits; children started in the background must close it (9>&-).
take_lock() {
  exec 9>"$INFRA_DIR/.$1.lock"
  flock -w "${2:-600}" 9 || die "another run of $INFRA_SELF held $INFRA_DIR/.$1.lock for more than ${2:-600} s; is one stuck?"
}

# wait_until SECONDS COMMAND...: poll COMMAND every 0.5 s; non-zero if it never succeeded in time.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.5
  done
}

# alive PID: the process exists and is not a zombie. (kill -0 is not enough: on this machine PID 1
# may reap a killed daemon late, and its zombie keeps its name in /proc/PID/comm.)
alive() {
  local state
  state="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
# alive_named PID NAME: alive and its command name is NAME (a recycled pid is not ours).
alive_named() { [ -n "$1" ] && alive "$1" && [ "$(cat "/proc/$1/comm" 2>/dev/null || true)" = "$2" ]; }
# gone PID: the process has exited.
gone() { ! alive "$1"; }

# apt_install PACKAGE...: installs the packages that are missing, from the configured Debian mirror.
# Tries without `apt-get update` first (fast when the lists are fresh), then updates and retries.
# logged LOG COMMAND...: runs COMMAND with its output appended to LOG and also shown on stderr,
# indented, as it comes: a step that takes minutes (apt, debootstrap, a Go build) shows progress.
# SCONECTL_INFRA_QUIET=1 keeps the output in LOG only.
logged() {
  local log=$1
  shift
  if [ "${SCONECTL_INFRA_QUIET:-0}" = 1 ]; then
    "$@" >>"$log" 2>&1
    return
  fi
  local rc=0
  "$@" 2>&1 | tee -a "$log" | sed -u "s/^/  | /" >&2 || rc=${PIPESTATUS[0]}
  return "$rc"
}

apt_install() {
  local missing=() package log="$INFRA_DIR/apt.log"
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  require_root
  printf '%s: installing %s\n' "$INFRA_SELF" "${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=180)
  if ! logged "$log" timeout 900 apt-get install "${apt_opts[@]}" "${missing[@]}"; then
    logged "$log" timeout 300 apt-get update -q -o DPkg::Lock::Timeout=180 ||
      die "apt-get update failed (needed to install ${missing[*]}); is Debian's mirror in /etc/apt/sources.list* reachable?" "$log"
    logged "$log" timeout 900 apt-get install "${apt_opts[@]}" "${missing[@]}" ||
      die "apt-get install ${missing[*]} failed." "$log"
  fi
}

# print_env KEY VALUE...: KEY=VALUE lines, shell-quoted so that `eval "$(... --print-env)"` is safe.
print_env() {
  while [ $# -ge 2 ]; do
    printf '%s=%q\n' "$1" "$2"
    shift 2
  done
}

# parse_mode [OPTION]: sets `mode` from a daemon script's one option: ensure (none), print-env or
# stop; --help prints the script's header comment.
parse_mode() {
  mode="ensure"
  case "${1:-}" in
    "") ;;
    --print-env) mode="print-env" ;;
    --stop) mode="stop" ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1'; use --print-env, --stop or no option." ;;
  esac
}
