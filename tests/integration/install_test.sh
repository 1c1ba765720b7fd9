#!/usr/bin/env bash
# `cmake --install` into a DESTDIR, twice (the default prefix and --prefix /opt/sconectl): the
# files land where the conventions say, the installed sconectl runs, finds the installed
# simulation runtime (not the build tree's), and its completions and man pages match the program.
#   tests/integration/install_test.sh BUILD_DIRECTORY
set -euo pipefail
test_name=install_test
build=$(cd "$1" && pwd)
source=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "$test_name: FAILED: $*" >&2; exit 1; }
step() { echo "$test_name: $*"; }

prefix_of() { sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt"; }

# check_install DESTDIR PREFIX
check_install() {
  local root=$1$2
  local expect
  for expect in bin/sconectl libexec/sconectl/sconectl-runtime-sim \
    share/bash-completion/completions/sconectl share/zsh/vendor-completions/_sconectl \
    share/man/man1/sconectl.1 share/man/man1/sconectl-apply.1 share/man/man1/sconectl-cas-serve.1 \
    share/doc/sconectl/README.md share/doc/sconectl/LICENSE share/doc/sconectl/cli.md \
    share/doc/sconectl/security.md; do
    [ -f "$root/$expect" ] || fail "$expect is not installed under $root"
  done
  [ -x "$root/bin/sconectl" ] && [ -x "$root/libexec/sconectl/sconectl-runtime-sim" ] ||
    fail "the installed programs are not executable"
  [ ! -e "$root/bin/sconectl-runtime-sim" ] || fail "the runtime is also in bin/"

  step "the installed sconectl runs and finds the installed runtime ($root)"
  local version runtime
  version=$(env -u SCONECTL_RUNTIME_SIM "$root/bin/sconectl" version --format json) ||
    fail "installed sconectl version failed"
  runtime=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["runtime_sim"])' <<<"$version")
  [ "$runtime" = "$root/libexec/sconectl/sconectl-runtime-sim" ] ||
    fail "the installed sconectl uses the runtime '$runtime', not $root/libexec/sconectl/sconectl-runtime-sim"
  "$root/bin/sconectl" --version | grep -x "sconectl [0-9.]*" >/dev/null || fail "installed sconectl --version"
  "$root/bin/sconectl" validate -f "$source/examples/hello-world/mesh.yaml" >/dev/null ||
    fail "installed sconectl cannot validate examples/hello-world/mesh.yaml"

  step "bash completion from the installed script"
  local words
  words=$(bash -c '
    . "$1"
    complete_line() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _sconectl; echo "${COMPREPLY[*]}"; }
    complete_line sconectl ""
    complete_line sconectl cas ""
    complete_line sconectl apply --run
    complete_line sconectl apply --runtime ""
    complete_line sconectl --format ""' _ "$root/share/bash-completion/completions/sconectl")
  [ "$words" = "$(printf '%s\n' 'validate apply diff verify cas session self version' 'attest show-certificate serve' '--runtime' 'none sim' 'json text')" ] ||
    fail "bash completion offered: $words"
  head -n 1 "$root/share/zsh/vendor-completions/_sconectl" | grep -x '#compdef sconectl' >/dev/null ||
    fail "the zsh completion does not start with #compdef sconectl"
  grep -qF 'sconectl\-cas\-serve(1)' "$root/share/man/man1/sconectl-cas.1" ||
    fail "sconectl-cas(1) does not refer to sconectl-cas-serve(1)"
  if command -v man >/dev/null; then
    man -l "$root/share/man/man1/sconectl-validate.1" 2>/dev/null | grep -- '--strict' >/dev/null ||
      fail "man sconectl-validate does not render its options"
  fi
}

step "cmake --install with DESTDIR and the configured prefix"
DESTDIR=$work/a cmake --install "$build" >"$work/install-a.log" || fail "$(tail -5 "$work/install-a.log")"
check_install "$work/a" "$(prefix_of)"

step "cmake --install with DESTDIR and --prefix /opt/sconectl"
DESTDIR=$work/b cmake --install "$build" --prefix /opt/sconectl >"$work/install-b.log" ||
  fail "$(tail -5 "$work/install-b.log")"
check_install "$work/b" /opt/sconectl
step "passed"
