#!/usr/bin/env bash
# Regenerates tests/corpus/invalid/NAME.expected for every tests/corpus/invalid/NAME.yaml.
#
# Usage: tests/corpus/regenerate.sh path/to/sconectl
#
# The contract (the C++ corpus test checks exactly this):
#   * working directory: tests/corpus/invalid
#   * command:           sconectl validate -f NAME.yaml
#   * environment:       only PATH and SCONECTL_CORPUS_DEFINED=defined-value; in particular no
#                        SCONECTL_CORPUS_UNSET_* variable is set
#   * expected result:   exit code 2, empty stdout, stderr byte-for-byte equal to NAME.expected
#
# Every NAME.expected is rewritten with the current stderr. Cases that break the contract
# (exit code other than 2, output on stdout, more than 10 s) are listed at the end; the script
# then exits with status 1. Review `git diff tests/corpus` before committing: the .expected files
# are the specification of the error messages.
set -u -o pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 path/to/sconectl" >&2
  exit 64
fi

binary=$(realpath -e -- "$1") || { echo "$0: no such binary: $1" >&2; exit 64; }
if [[ ! -x $binary ]]; then
  echo "$0: not executable: $binary" >&2
  exit 64
fi

corpus_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/invalid" && pwd) || exit 1
cd -- "$corpus_dir" || exit 1

stdout_file=$(mktemp)
trap 'rm -f -- "$stdout_file"' EXIT

shopt -s nullglob
cases=(*.yaml)
if [[ ${#cases[@]} -eq 0 ]]; then
  echo "$0: no cases in $corpus_dir" >&2
  exit 1
fi

problems=()
for manifest in "${cases[@]}"; do
  name=${manifest%.yaml}
  timeout 10 env -i PATH="$PATH" SCONECTL_CORPUS_DEFINED=defined-value \
    "$binary" validate -f "$manifest" >"$stdout_file" 2>"$name.expected" </dev/null
  status=$?
  if [[ $status -eq 124 ]]; then
    problems+=("$name: timed out after 10 s")
  elif [[ $status -ge 128 ]]; then
    problems+=("$name: crashed (exit code $status, signal $((status - 128)))")
  elif [[ $status -ne 2 ]]; then
    problems+=("$name: exit code $status, expected 2")
  fi
  if [[ -s $stdout_file ]]; then
    problems+=("$name: wrote to stdout: $(head -c 200 -- "$stdout_file" | tr '\n' ' ')")
  fi
done

echo "regenerated ${#cases[@]} cases in $corpus_dir"
if [[ ${#problems[@]} -gt 0 ]]; then
  echo "cases that break the contract (exit code 2, empty stdout, at most 10 s):"
  printf '  %s\n' "${problems[@]}"
  exit 1
fi
