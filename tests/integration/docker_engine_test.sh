#!/usr/bin/env bash
# The Docker Engine API lookups against the real dockerd (scripts/infra), beside the CLI.
#   tests/integration/docker_engine_test.sh TEST_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (no Docker Engine here; never in CI).
set -euo pipefail
binary=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=docker_engine_test
sconectl=
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
trap 'rm -rf "$work"' EXIT
start_infra
SCONECTL_TEST_IMAGE=$base_image "$binary"
