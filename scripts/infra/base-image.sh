#!/usr/bin/env bash
# Builds a minimal local Python base image without pulling anything (no registry is reachable):
# debootstrap --variant=minbase of Debian bookworm with python3 and pip from Debian's mirror, then
# `docker import`. Prints the image name on stdout. Idempotent: does nothing when the image exists;
# re-imports from the cached rootfs tarball when only the image is gone (a few seconds).
#
# Usage: scripts/infra/base-image.sh [--rebuild]
#   --rebuild  forget the cached rootfs tarball and the image, and build both again
#
# Environment:
#   SCONECTL_INFRA_DIR       state directory (default /tmp/sconectl-infra); the rootfs tarball and the
#                            build log live in $SCONECTL_INFRA_DIR/base-image
#   SCONECTL_BASE_IMAGE      image name (default sconectl/python-base:bookworm)
#   SCONECTL_DEBIAN_MIRROR   Debian mirror for debootstrap (default: the one apt uses, read from
#                            /etc/apt/sources.list*; here http://deb.debian.org/debian)
#
# What the image offers (Debian 12 packages; about 150 MB):
#   python3 (3.11), python (python-is-python3), pip (23.0, as pip, pip3 and python3 -m pip) with
#   setuptools and wheel, ca-certificates; bash, coreutils, apt, dpkg. No compiler, no curl.
#   - Debian's PEP 668 marker /usr/lib/python3.11/EXTERNALLY-MANAGED is REMOVED, so
#     `pip install -r requirements.txt` works as root the way it does in the official python images
#     (with the marker, even an empty requirements file fails with "externally-managed-environment").
#     pip still warns about running as root; PIP_ROOT_USER_ACTION=ignore silences it.
#   - docs, man pages, locales and apt's lists and caches are removed, and a dpkg filter keeps later
#     `apt-get install`s free of them; run `apt-get update` before installing anything.
#   - ENV PATH (the usual), LANG=C.UTF-8, PIP_ROOT_USER_ACTION=ignore, PIP_DISABLE_PIP_VERSION_CHECK=1;
#     CMD ["python3"]; no ENTRYPOINT; WORKDIR /; user root.
#   - Containers reach PyPI only if the engine's network allows it (bridge NAT works here).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

rebuild=0
case "${1:-}" in
  "") ;;
  --rebuild) rebuild=1 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1'; use --rebuild or no option." ;;
esac

image="${SCONECTL_BASE_IMAGE:-sconectl/python-base:bookworm}"
suite="bookworm"
packages="python3,python3-pip,python-is-python3,ca-certificates"
# Bump when the recipe below changes: a new name means the cached tarball is not reused.
recipe=1
dir="$INFRA_DIR/base-image"
tarball="$dir/python-base-$suite-r$recipe.tar"
log="$dir/build.log"

# The image exists and was made by this recipe (an older one is rebuilt).
image_exists() {
  [ "$(timeout 30 docker image inspect --format '{{index .Config.Labels "sconectl.base-image.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]
}

if [ "$rebuild" = 0 ] && image_exists; then
  echo "$image"
  exit 0
fi

require_root
"$here/docker.sh"
mkdir -p "$dir"
take_lock base-image 1800
# The image this run replaces (older recipe, or --rebuild), dropped once the new one is in place.
old_id="$(timeout 30 docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if [ "$rebuild" = 1 ]; then
  rm -f "$tarball"
elif image_exists; then # built by another run while we waited for the lock
  echo "$image"
  exit 0
fi

# The Debian mirror apt is configured with: deb822 .sources files (URIs:) and one-line .list files.
# Prefer an entry for the bookworm suite itself (not -security, -updates).
apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    # One stanza per paragraph; print the URIs of stanzas whose Suites include the plain suite.
    awk -v suite="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; ok = 0; deb = 1; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
          if ($i ~ /^Types:/ && $i !~ /(^|[ \t])deb([ \t]|$)/) deb = 0
          if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
        }
        if (ok && deb && enabled && uris != "") { split(uris, u, /[ \t]+/); print u[1] }
      }' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -E 's/\[[^]]*\]//' "$file" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
  done
}

mirror="${SCONECTL_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(apt_mirror | grep -E '^(https?|file)://' | sed -n 1p || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

rootfs="$dir/rootfs"
# A run killed half-way may have left debootstrap's /proc and /sys mounts inside: unmount them
# before deleting, never delete through a mount.
cleanup_rootfs() {
  if [ -d "$rootfs" ]; then
    { findmnt -rn -o TARGET | grep -F "$rootfs/" || true; } | sort -r | while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$rootfs"
  fi
}
cleanup_rootfs

if [ ! -s "$tarball" ]; then
  apt_install debootstrap
  cleanup_rootfs
  trap cleanup_rootfs EXIT
  note "debootstrap $suite from $mirror (about 2 minutes)"
  start=$SECONDS
  printf '\n===== %s: debootstrap --variant=minbase --include=%s %s %s\n' "$(date -u +%FT%TZ)" "$packages" "$suite" "$mirror" >>"$log"
  # minbase: essential packages + apt only. debootstrap installs Depends, not Recommends.
  # Bounded: 2 minutes here; 20 minutes means the mirror is unusable.
  printf '%s: debootstrap of Debian %s (a few minutes; its progress follows)\n' "$INFRA_SELF" "$suite" >&2
  logged "$log" timeout 1200 debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" ||
    die "debootstrap of Debian $suite from $mirror failed or took more than 20 minutes; set SCONECTL_DEBIAN_MIRROR to a reachable Debian mirror." "$log"

  # Shrink, and keep later apt-get installs in the image small too.
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/sconectl-minimal" <<'EOF'
# scripts/infra/base-image.sh: no docs, man pages or translations in this image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' >"$rootfs/etc/apt/apt.conf.d/90sconectl-minimal"
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  find "$rootfs/var/log" -type f -delete
  # PEP 668: see the header. Official python images have no such marker either.
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  # Docker provides these at run time; the build host's must not leak into the image.
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  # machine-id is generated per system; an empty file tells systemd-less programs it is unset.
  : >"$rootfs/etc/machine-id"

  # Check what the image promises before keeping it.
  for check in "python3 --version" "python --version" "python3 -m pip --version" "pip --version"; do
    # shellcheck disable=SC2086 # the words of $check are the command
    chroot "$rootfs" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $check >>"$log" 2>&1 ||
      die "the debootstrapped rootfs fails \`$check\`." "$log"
  done

  # Docker gives every container its own /dev; debootstrap's device nodes are not wanted.
  if findmnt -rn -o TARGET | grep -F "$rootfs/" >/dev/null; then die "something is still mounted under $rootfs; not packing it."; fi
  rm -rf --one-file-system "${rootfs:?}"/dev/*
  timeout 600 tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.tmp" . 2>>"$log" ||
    die "could not pack $rootfs into $tarball." "$log"
  mv "$tarball.tmp" "$tarball"
  cleanup_rootfs
  trap - EXIT
  printf '%s: rootfs built in %d s, %s\n' "$(date -u +%FT%TZ)" "$((SECONDS - start))" "$(du -h "$tarball" | cut -f1)" >>"$log"
fi

start=$SECONDS
timeout 600 docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_ROOT_USER_ACTION=ignore' \
  --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
  --change 'CMD ["python3"]' \
  --change "LABEL sconectl.base-image.recipe=$recipe" \
  --change "LABEL org.opencontainers.image.description=\"Debian $suite minbase + python3 + pip, built locally by scripts/infra/base-image.sh (recipe $recipe)\"" \
  --message "debootstrap $suite from $mirror" \
  "$tarball" "$image" >>"$log" 2>&1 ||
  die "docker import of $tarball as $image failed." "$log"
# The replaced image would linger untagged: drop it unless a container or image still uses it.
if [ -n "$old_id" ] && [ "$old_id" != "$(timeout 30 docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)" ]; then
  timeout 60 docker image rm "$old_id" >/dev/null 2>&1 || true
fi
printf '%s: imported %s in %d s\n' "$(date -u +%FT%TZ)" "$image" "$((SECONDS - start))" >>"$log"
echo "$image"
