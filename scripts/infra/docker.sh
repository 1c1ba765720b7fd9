#!/usr/bin/env bash
# Ensures that a Docker Engine answers `docker info`, installing Debian's docker.io and starting
# dockerd in the background when needed. Idempotent and quiet on success.
#
# Usage: scripts/infra/docker.sh [--print-env | --stop]
#   (no option)  ensure the engine answers, print nothing
#   --print-env  ensure it, then print KEY=VALUE facts a caller needs (eval-safe):
#                  DOCKER_HOST            the socket to talk to (DOCKER_HOST if set, else the default)
#                  DOCKER_STORAGE_DRIVER  overlay2 here; vfs where overlayfs does not work
#                  DOCKER_NETWORK         bridge, or host when the sandbox allows no bridge/iptables:
#                                         then pass `--network host` to `docker run` and `docker build`
#                  DOCKER_BUILDKIT        0 when no buildx plugin exists (only the legacy builder works;
#                                         DOCKER_BUILDKIT=1 makes `docker build` fail), 1 when it does
#                  DOCKER_SERVER_VERSION  the engine's version
#                  SCONECTL_DOCKERD_LOG   the log of a dockerd this script started
#   --stop       stop the dockerd this script started (never a daemon started by someone else)
#
# Environment:
#   DOCKER_HOST                     honoured: if set to unix:///path, dockerd is started on that socket;
#                                   a tcp:// host that does not answer is an error (nothing to start)
#   SCONECTL_INFRA_DIR              state directory (default /tmp/sconectl-infra); when set, the dockerd
#                                   log goes there, otherwise to /var/log/sconectl-dockerd.log
#   SCONECTL_DOCKER_STORAGE_DRIVER  force a storage driver (e.g. vfs, fuse-overlayfs) instead of probing
#   SCONECTL_DOCKERD_TIMEOUT        seconds to wait for dockerd to answer (default 60)
#
# What this sandbox (Debian 12 VM, kernel 6.x, ext4 root, cgroup v1 + unified v2 hybrid, as root)
# turned out to allow, probed by hand with Debian's docker.io 20.10.24:
#   - dockerd with NO special flags works: it picks overlay2 itself (ext4 backing, d_type supported,
#     native overlay diff), the cgroupfs cgroup driver (cgroup v1, no systemd as PID 1) and sets up the
#     docker0 bridge with iptables (iptables 1.8.9, nf_tables backend). Containers run on the default
#     bridge network and with --network host.
#   - there is no systemd, and Debian's policy-rc.d denies starting services on package install, so
#     dockerd must be started by hand (this script does it).
#   - /usr/local/bin/docker is Docker CLI 28.x without the buildx plugin; it talks to the 20.10 engine by
#     API version negotiation. `docker build` works with the legacy builder only (it prints a
#     deprecation notice); DOCKER_BUILDKIT=1 fails with "buildx component is missing".
#   - no registry is reachable, so nothing can be pulled: images come from `docker import`
#     (see base-image.sh).
# The fallbacks below (no bridge, vfs) are for machines that do not allow these; each is tried only
# when the previous configuration could not start dockerd or run a container.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

parse_mode "$@"

if [ -n "${SCONECTL_INFRA_DIR:-}" ]; then log="$INFRA_DIR/dockerd.log"; else log="/var/log/sconectl-dockerd.log"; fi
pid_file="$INFRA_DIR/dockerd.pid"     # the dockerd this script started
flags_file="$INFRA_DIR/dockerd.flags" # the flags it was started with (for the curious)
host_file="$INFRA_DIR/dockerd.host"   # the socket it listens on
timeout_s="${SCONECTL_DOCKERD_TIMEOUT:-60}"
smoke_image="sconectl/infra-smoke:tini"

docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

our_dockerd_pid() {
  local pid
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if alive_named "$pid" dockerd; then echo "$pid"; fi
}

stop_our_dockerd() {
  local pid
  pid="$(our_dockerd_pid)"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    # dockerd stops its containers and its containerd first; give it 30 s, then force.
    wait_until 30 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
    wait_until 5 gone "$pid" || true
  fi
  rm -f "$pid_file"
}

print_facts() {
  local info driver version network buildkit
  info="$(timeout 20 docker info --format '{{.Driver}} {{.ServerVersion}}' 2>/dev/null)" ||
    die "docker info stopped answering while printing the environment."
  driver="${info%% *}"
  version="${info#* }"
  # A daemon started with --bridge=none has no network called "bridge": containers then need the host's.
  if timeout 20 docker network inspect bridge >/dev/null 2>&1; then network=bridge; else network=host; fi
  if timeout 20 docker buildx version >/dev/null 2>&1; then buildkit=1; else buildkit=0; fi
  print_env DOCKER_HOST "${DOCKER_HOST:-unix:///var/run/docker.sock}" \
    DOCKER_STORAGE_DRIVER "$driver" \
    DOCKER_NETWORK "$network" \
    DOCKER_BUILDKIT "$buildkit" \
    DOCKER_SERVER_VERSION "$version" \
    SCONECTL_DOCKERD_LOG "$log"
}

if [ "$mode" = stop ]; then
  require_root
  take_lock docker 300
  stop_our_dockerd
  exit 0
fi

if docker_answers; then
  [ "$mode" = print-env ] && print_facts
  exit 0
fi

require_root
take_lock docker 300
if docker_answers; then # another run started it while we waited for the lock
  [ "$mode" = print-env ] && print_facts
  exit 0
fi

# Where dockerd must listen.
socket_args=()
if [ -n "${DOCKER_HOST:-}" ]; then
  case "$DOCKER_HOST" in
    unix://*) socket_args=(--host "$DOCKER_HOST") ;;
    *) die "DOCKER_HOST=$DOCKER_HOST does not answer \`docker info\`, and it is not a local unix:// socket on which this script could start dockerd; start that engine, or unset DOCKER_HOST to use a local one." ;;
  esac
fi

# dockerd, containerd, runc, iptables and tini (docker-init) all come with Debian's docker.io.
# --no-install-recommends: apparmor, cgroupfs-mount, git, needrestart, xz-utils are not needed here.
# (Only when something is missing: a machine with docker-ce's dockerd keeps it.)
for tool in dockerd containerd runc docker-init docker; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    apt_install docker.io iptables
    break
  fi
done

# A dockerd we started earlier that is alive but does not answer may still be starting; give it the
# usual time, then replace it. One on another socket is left alone: a second dockerd cannot run
# beside it (same data root, pid file and docker0 bridge).
wanted_host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
if [ -n "$(our_dockerd_pid)" ] && [ "$(cat "$host_file" 2>/dev/null || true)" != "$wanted_host" ]; then
  die "the dockerd this script started (pid $(our_dockerd_pid)) listens on $(cat "$host_file" 2>/dev/null || echo 'another socket'), not on $wanted_host, and a second one cannot run beside it; use that DOCKER_HOST, or stop it first with \`DOCKER_HOST=... $0 --stop\`."
fi
if [ -n "$(our_dockerd_pid)" ]; then
  if wait_until "$timeout_s" docker_answers; then
    [ "$mode" = print-env ] && print_facts
    exit 0
  fi
  stop_our_dockerd
fi
# A dockerd that someone else started and that does not answer: not ours to kill.
other_pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
if alive_named "$other_pid" dockerd; then
  die "a dockerd (pid $other_pid, not started by this script) is running but \`docker info\` gets no answer${DOCKER_HOST:+ on DOCKER_HOST=$DOCKER_HOST}; stop it or fix it, then run this again."
fi

# On a systemd machine the packaged service is the normal way; use it when it works.
if [ ${#socket_args[@]} -eq 0 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  if timeout 90 systemctl start docker >/dev/null 2>&1 && wait_until "$timeout_s" docker_answers; then
    [ "$mode" = print-env ] && print_facts
    exit 0
  fi
fi

# dockerd needs cgroups mounted. This VM mounts them (v1 controllers + v2 at /sys/fs/cgroup/unified);
# a bare machine or container may not: mount the unified v2 hierarchy then.
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ ! -d /sys/fs/cgroup/memory ]; then
  mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null ||
    die "no cgroup hierarchy is mounted under /sys/fs/cgroup and mounting cgroup2 there failed; dockerd cannot run containers without cgroups."
fi

# smoke_test: can the daemon create a layer and run a container? tini-static (docker.io's
# docker-init) is the only static binary at hand, so it is the whole image.
smoke_test() {
  local network="$1" dir
  if ! timeout 20 docker image inspect "$smoke_image" >/dev/null 2>&1; then
    dir="$(mktemp -d)"
    cp -L /usr/bin/docker-init "$dir/tini"
    timeout 60 tar -C "$dir" -c tini | timeout 60 docker import - "$smoke_image" >>"$log" 2>&1 || { rm -rf "$dir"; return 1; }
    rm -rf "$dir"
  fi
  timeout 60 docker run --rm --network "$network" "$smoke_image" /tini --version >>"$log" 2>&1
}

# start_dockerd FLAGS...: start dockerd in the background; 0 once it answers and runs a container.
start_dockerd() {
  local pid network=bridge
  case " $* " in *" --bridge=none "*) network=host ;; esac
  mkdir -p "$(dirname "$log")"
  printf '\n===== %s: dockerd %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  # setsid: its own session, so it outlives this script and a caller's terminal; all its output goes
  # to the log and fd 9 (our lock) is closed, so `$(docker.sh --print-env)` never waits for it.
  setsid dockerd "$@" >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  disown "$pid" 2>/dev/null || true
  echo "$pid" >"$pid_file"
  printf '%s\n' "$*" >"$flags_file"
  printf '%s\n' "$wanted_host" >"$host_file"
  # Stop waiting early when dockerd exits (bad flag, unsupported driver...).
  # shellcheck disable=SC2317 # called through wait_until
  up_or_dead() { docker_answers || gone "$pid"; }
  wait_until "$timeout_s" up_or_dead || true
  if gone "$pid" || ! docker_answers; then
    stop_our_dockerd
    return 1
  fi
  if ! smoke_test "$network"; then
    printf '%s: dockerd answered but could not run a container with --network %s\n' "$INFRA_SELF" "$network" >>"$log"
    stop_our_dockerd
    return 1
  fi
}

driver_args=()
if [ -n "${SCONECTL_DOCKER_STORAGE_DRIVER:-}" ]; then driver_args=(--storage-driver "$SCONECTL_DOCKER_STORAGE_DRIVER"); fi

# 1. Defaults: dockerd probes the storage driver itself (overlay2 here; it skips overlay2 when the
#    data root is itself on overlayfs) and sets up the docker0 bridge with iptables NAT.
# 2. --iptables=false --bridge=none: for sandboxes where iptables/nf_tables or creating a bridge or
#    veth pair is not permitted; dockerd then refuses to start (or containers fail to start) with the
#    bridge. Without a bridge, containers and `docker build` need `--network host`
#    (--print-env says DOCKER_NETWORK=host).
# 3. --storage-driver=vfs as well: for sandboxes where overlay mounts are not permitted (e.g. inside an
#    unprivileged container). vfs copies every layer in full: slow and large, but needs nothing.
#    Set SCONECTL_DOCKER_STORAGE_DRIVER=fuse-overlayfs (after `apt-get install fuse-overlayfs`) to
#    prefer that where /dev/fuse exists.
# Each attempt logs to $log; a failed one is stopped before the next.
if start_dockerd "${socket_args[@]}" "${driver_args[@]}"; then :
elif start_dockerd "${socket_args[@]}" "${driver_args[@]}" --iptables=false --bridge=none; then :
elif [ ${#driver_args[@]} -eq 0 ] && start_dockerd "${socket_args[@]}" --storage-driver=vfs --iptables=false --bridge=none; then :
else
  tried="default flags, then --iptables=false --bridge=none"
  if [ ${#driver_args[@]} -eq 0 ]; then tried="$tried, then also --storage-driver=vfs"; else tried="$tried (all with ${driver_args[*]})"; fi
  die "could not start a working dockerd (tried $tried): each time it exited, did not answer \`docker info\` within ${timeout_s} s, or could not run a container. The log says why." "$log"
fi

[ "$mode" = print-env ] && print_facts
exit 0
