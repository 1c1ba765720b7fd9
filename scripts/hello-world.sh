#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, builds sconectl, and runs
# it on the bundled hello-world example (examples/hello-world).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
example="$root/examples/hello-world"

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build/release"
sconectl="$root/build/release/src/sconectl"

cd "$example"
echo "==> sconectl validate --strict -f service.yaml -f mesh.yaml"
"$sconectl" validate --strict -f service.yaml -f mesh.yaml
echo
echo "==> sconectl apply -f service.yaml --print-defaults"
"$sconectl" apply -f service.yaml --print-defaults
echo
echo "==> sconectl apply -f mesh.yaml --print-defaults"
"$sconectl" apply -f mesh.yaml --print-defaults
echo
echo "sconectl is at $sconectl; the example is in $example."
