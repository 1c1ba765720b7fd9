#!/usr/bin/env bash
# The README's tour, run as a reader would follow it: every command of its console blocks, in
# order, in one shell, in a copy of the repository's examples and scripts, with the sconectl under
# test on the PATH and a home directory of its own. What each command prints is compared with
# what the README shows (tests/scripts/console_blocks.py: `...` skips lines; hashes, digests and
# the CAS's port are not compared). The tour's CAS (scripts/infra/cas.sh) runs on a port of its
# own with fresh data, so the README's "created" holds on every run.
#   tests/integration/readme_tour_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=readme_tour_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
infra=${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}
cleanup() {
  SCONECTL_CAS_PORT=$port "$work/repo/scripts/infra/cas.sh" "$sconectl" --stop >/dev/null 2>&1 || true
  rm -rf "$infra/cas/data-$port" "$infra/cas/cas-$port".* "$work"
}
trap cleanup EXIT

start_infra
step "Docker Engine, registry $REGISTRY, base image $base_image; the tour's CAS on port $port"
mkdir -p "$work/repo" "$work/home"
cp -r "$root/examples" "$root/scripts" "$work/repo/"
rm -rf "$infra/cas/data-$port"

# The reader's environment: sconectl on the PATH, a home of its own (~/.config/sconectl,
# ~/.cas), nothing of this test's variables.
status=0
env -i PATH="$(dirname "$sconectl"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  HOME="$work/home" LANG=C.UTF-8 NO_COLOR=1 SCONECTL_CAS_PORT="$port" \
  ${SCONECTL_INFRA_DIR:+SCONECTL_INFRA_DIR="$SCONECTL_INFRA_DIR"} \
  python3 "$root/tests/scripts/console_blocks.py" "$root/README.md" "### A tour" "$work/repo" \
  --same "127.0.0.1:$port=127.0.0.1:8081" --same "$work/home=/home/me" ${TOUR_SHOW:+--show} >"$work/tour.out" 2>&1 || status=$?
cat "$work/tour.out"
[ "$status" = 0 ] || fail "the README's tour does not print what it shows (above)"
step "the README's tour printed what it shows"
