#!/usr/bin/env bash
# Copies the repository's files (tracked, and untracked ones git does not ignore) into a directory
# that holds nothing else, and prints the copy's path. Tests run from there cannot reach files
# beside the repository (such as ../shared), so any that need them without a guard fail.
#
# The copy lives at a fixed place (default: $TMPDIR/sconectl-isolated-<uid>/sconectl) so that its
# build directory survives between runs; files are copied with their modification times, so an
# unchanged file is not rebuilt. Everything in the copy except its build/ is replaced on each run.
#   scripts/isolated-copy.sh [PARENT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
parent=${1:-${TMPDIR:-/tmp}/sconectl-isolated-$(id -u)}
copy="$parent/sconectl"

case "$parent/" in
  "$root"/*) echo "isolated-copy: $parent is inside the repository" >&2; exit 2 ;;
esac
mkdir -p "$copy"
# Nothing may stand beside the copy: that is the point of the check.
shopt -s dotglob nullglob
for entry in "$parent"/*; do
  if [ "$entry" != "$copy" ]; then
    echo "isolated-copy: $parent holds $entry besides the copy; remove it or name another directory" >&2
    exit 2
  fi
done
for entry in "$copy"/*; do
  [ "$(basename "$entry")" = build ] || rm -rf "$entry"
done
shopt -u dotglob nullglob

cd "$root"
list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else  # an unpacked source archive: everything but build output
    find . -path ./build -prune -o \( -type f -o -type l \) -print0
  fi
}
list_files |
  while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
  tar --null --files-from=- --create --file=- | tar --extract --preserve-permissions --file=- -C "$copy"
# The copy is not a git checkout; scripts that list files fall back to find.
printf '%s\n' "$copy"
