#!/usr/bin/env bash
# Builds the container image of sconectl for CI jobs with the local Docker, from a build directory
# of this repository (which must have its default targets built: sconectl, the runtime, the
# completions and man pages): `cmake --install` into a root file system, plus exactly the shared
# libraries sconectl needs (those it links and the two it loads when needed, libcurl and
# libarchive, with theirs), this machine's Docker CLI (image builds go through it), CA
# certificates and a non-root user. FROM scratch: no shell, no package manager, no compiler.
# Prints the image name on stdout; progress goes to stderr.
#
#   scripts/ci-image.sh BUILD_DIRECTORY [IMAGE]       (IMAGE defaults to sconectl:<version>)
#
# Use it in a pipeline step with the manifests mounted at /work (the working directory):
#   docker run --rm -v "$PWD:/work" sconectl:0.1.0 validate -f mesh.yaml
# The image runs as user sconectl (uid 10001), HOME=/home/sconectl. For `apply -f service.yaml`,
# mount the Docker socket; for a CAS, its client configuration directory. examples/ci/sconectl.sh
# does both.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/ci-image.sh BUILD_DIRECTORY [IMAGE]" >&2; exit 2; }
build=$(cd "$1" && pwd)
sconectl_built=$build/src/sconectl
[ -x "$sconectl_built" ] || { echo "ci-image: $sconectl_built is not built" >&2; exit 1; }
version=$("$sconectl_built" --version | awk '{ print $2 }')
image=${2:-sconectl:$version}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

echo "ci-image: installing sconectl into the image's root file system" >&2
DESTDIR=$rootfs cmake --install "$build" --prefix /usr --strip >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; exit 1; }
rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/zsh" "$rootfs/usr/share/bash-completion"

# copy_with_libraries FILE...: each file and every shared library ldd resolves for it, at the same
# paths (symbolic links followed), and the dynamic loader.
copy_with_libraries() {
  local file library
  for file in "$@"; do
    for library in $(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
      mkdir -p "$rootfs$(dirname "$library")"
      cp -L "$library" "$rootfs$library"
    done
  done
}
libdir=/usr/lib/$(uname -m)-linux-gnu
dlopened=()
for soname in libcurl.so.4 libarchive.so.13; do
  # awk reads to the end: leaving early would kill ldconfig with SIGPIPE, which pipefail turns
  # into a silent failure of the whole script.
  path=$(ldconfig -p | awk -v name="$soname" '$1 == name && $NF ~ /^\// && !found { print $NF; found = 1 }')
  [ -n "$path" ] || { echo "ci-image: $soname is not installed on this machine" >&2; exit 1; }
  mkdir -p "$rootfs$(dirname "$path")"
  cp -L "$path" "$rootfs$(dirname "$path")/$soname"
  dlopened+=("$path")
done
copy_with_libraries "$rootfs/usr/bin/sconectl" "${dlopened[@]}"
# The Docker CLI: `apply -f service.yaml` builds and pushes through it (with the Engine's socket
# mounted), as the original sconectl's image does.
docker_cli=$(command -v docker) || { echo "ci-image: no docker CLI on this machine to put into the image" >&2; exit 1; }
install -D -m 0755 "$(readlink -f "$docker_cli")" "$rootfs/usr/bin/docker"
copy_with_libraries "$rootfs/usr/bin/docker"
# glibc's name service for the user database.
for nss in "$libdir"/libnss_files.so.2 /lib/$(uname -m)-linux-gnu/libnss_files.so.2; do
  if [ -e "$nss" ]; then mkdir -p "$rootfs$(dirname "$nss")"; cp -L "$nss" "$rootfs$nss"; fi
done

mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/home/sconectl" "$rootfs/work"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsconectl:x:10001:10001:sconectl:/home/sconectl:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nsconectl:x:10001:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

commit=$("$sconectl_built" version --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["git_commit"])')
cat >"$work/Dockerfile" <<DOCKERFILE
FROM scratch
COPY --chown=0:0 rootfs/ /
COPY --chown=10001:10001 rootfs/home/sconectl /home/sconectl
COPY --chown=10001:10001 rootfs/work /work
ENV HOME=/home/sconectl LD_LIBRARY_PATH=$libdir:/lib/$(uname -m)-linux-gnu PATH=/usr/bin
LABEL org.opencontainers.image.title=sconectl \\
      org.opencontainers.image.version=$version \\
      org.opencontainers.image.revision=$commit \\
      org.opencontainers.image.description="sconectl for CI jobs (simulation runtime: no SGX, no hardware protection)"
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["/usr/bin/sconectl"]
CMD ["--help"]
DOCKERFILE
echo "ci-image: building $image" >&2
DOCKER_BUILDKIT=0 docker build --tag "$image" "$work" >&2
echo "ci-image: $image, $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')" >&2
echo "$image"
