#!/usr/bin/env bash
# Writes the man pages of sconectl from its own --help, one page per command (sconectl(1),
# sconectl-apply(1), sconectl-cas-serve(1), ...), so they cannot drift from the program. Run by
# the build (target sconectl_shell_files); installed under share/man/man1.
#   scripts/man-pages.sh SCONECTL_BINARY OUTPUT_DIRECTORY
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/man-pages.sh SCONECTL_BINARY OUTPUT_DIRECTORY" >&2; exit 2; }
sconectl=$1
output=$2
mkdir -p "$output"
# Pages of commands that no longer exist must not linger.
rm -f "$output"/*.1
version=$("$sconectl" --version)

subcommands_of() {
  awk '/^Subcommands:/ { listing = 1; next } listing && /^  [a-z]/ { sub(/,$/, "", $1); print $1 } listing && /^$/ { listing = 0 }' <<<"$1"
}

# roff: backslashes written as \e, a leading '.' or "'" made literal, '-' kept a hyphen-minus.
escape() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# page COMMAND...: the page of `sconectl COMMAND...`, then those of its subcommands.
page() {
  local help name title summary sub see_also=""
  help=$("$sconectl" "$@" --help)
  name=sconectl${*:+-${*// /-}}
  name=${name// /-}
  title=${name^^}
  summary=$(head -n 1 <<<"$help")
  local subs
  subs=$(subcommands_of "$help")
  for sub in $subs; do see_also+="${see_also:+, }$name-$sub(1)"; done
  if [ $# -gt 0 ]; then
    local parent=sconectl
    [ $# -gt 1 ] && parent="sconectl-$(tr ' ' '-' <<<"${*:1:$#-1}")"
    see_also="$parent(1)${see_also:+, $see_also}"
  fi
  {
    printf '.TH "%s" "1" "" "%s" "User Commands"\n' "$title" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$name" "$(escape <<<"$summary")"
    printf '.SH DESCRIPTION\nThe text of \\fBsconectl%s \\-\\-help\\fR:\n.PP\n.nf\n' "${*:+ $*}"
    tail -n +2 <<<"$help" | escape
    printf '.fi\n'
    if [ -n "$see_also" ]; then
      printf '.SH SEE ALSO\n%s\n' "$(escape <<<"$see_also")"
    fi
  } >"$output/$name.1"
  for sub in $subs; do
    page "$@" "$sub"
  done
}

page
