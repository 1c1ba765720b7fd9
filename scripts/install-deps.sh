#!/usr/bin/env bash
# Installs what building and testing sconectl needs on Debian 12 (bookworm), from Debian's
# packages only. Idempotent: installs nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  clang-tidy   # scripts/clang-tidy.py, in the test command
  libcli11-dev libyaml-cpp-dev libyaml-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
  libspdlog-dev libfmt-dev libexpected-dev libgtest-dev libgmock-dev
  libcpp-httplib-dev libsqlite3-dev libarchive-dev
  sqlite3 curl   # the CAS integration test inspects the local CAS store and sends raw requests
  jq python3-yaml   # Scontain's exercise scripts (integration.scontain_scripts) read JSON and YAML
  busybox-static file   # the runtime test runs the static runtime in a FROM scratch image
  python3 python3-venv ca-certificates   # python3-venv: kubernetes-validate for the chart tests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep "install ok installed" >/dev/null; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
# Its progress (download, unpack, set up) is shown: the first run takes a few minutes.
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
