#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` in the build directory, then, in a clean Debian bookworm
# container (the local base image; no network), `apt-get install ./sconectl_*.deb`, and the
# installed sconectl runs --version, validate on examples/hello-world and the service step of
# `apply --runtime sim` against the host's Docker Engine (its socket and static docker CLI mounted).
#
# The container has no network. The package's dependencies that the base image lacks come from a
# local apt repository made on the host: the closure of the package's Depends (apt-cache depends
# --recurse), fetched with `apt-get download` into $SCONECTL_INFRA_DIR/deb-test/<hash> and indexed
# with dpkg-scanpackages; an image with that repository as its only apt source is built once per
# dependency set and reused by later runs.
#   tests/integration/deb_test.sh BUILD_DIRECTORY
# Exit codes: 0 passed, 1 failed, 125 skipped (no Docker Engine or no base image; never in CI).
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=deb_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
trap 'rm -rf "$work"' EXIT
infra=${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}

for tool in cpack dpkg-deb dpkg-shlibdeps dpkg-scanpackages apt-cache apt-get; do
  command -v "$tool" >/dev/null || skip_or_fail "$tool is not installed"
done
"$root/scripts/infra/docker.sh" >"$work/docker.log" 2>&1 || skip_or_fail "no Docker Engine: $(tail -3 "$work/docker.log")"
eval "$("$root/scripts/infra/docker.sh" --print-env)"
base_image=$("$root/scripts/infra/base-image.sh" 2>"$work/base.log") ||
  skip_or_fail "no local base image: $(tail -3 "$work/base.log")"

step "cpack -G DEB in $build"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/package") ||
  fail "cpack failed"
deb=$(ls "$work"/package/sconectl_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
step "$(basename "$deb"): Depends: $depends"
names=$(sed -E 's/\([^)]*\)//g; s/[|,]/\n/g' <<<"$depends" | tr -d ' ' | sed '/^$/d' | sort -u)
# dpkg-shlibdeps's work: the linked libraries, with versions from their symbols files.
for library in libc6 libstdc++6 libssl3 libsqlite3-0 libyaml-cpp0.7 libyaml-0-2; do
  grep -qxF "$library" <<<"$names" || fail "Depends lacks $library (found by dpkg-shlibdeps): $depends"
done
dpkg-deb -c "$deb" >"$work/contents"
grep -q ' ./usr/libexec/sconectl/sconectl-runtime-sim$' "$work/contents" || fail "the runtime is not in the package"
grep -q ' ./usr/share/man/man1/sconectl.1' "$work/contents" || fail "the man page is not in the package"

# The dependency closure, minus what the base image has, as a local apt repository.
key=$( (echo "$base_image"; echo "$names") | sha256sum | cut -c1-12)
repo="$infra/deb-test/$key"
image="sconectl/deb-test:$key"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  step "making the local apt repository $repo and the image $image (once per dependency set)"
  rm -rf "$repo.tmp" && mkdir -p "$repo.tmp"
  docker run --rm --network none "$base_image" dpkg-query -W -f '${Package}=${Version}\n' | sort -u >"$work/installed"
  # The closure as apt resolves it on an empty system, as name=version; minus what the base image
  # has in exactly that version.
  # shellcheck disable=SC2086 # one name per word
  apt-get -o Dir::State::status=/dev/null install --print-uris -qq -y $names >"$work/uris" ||
    skip_or_fail "apt-get cannot resolve the package's dependencies here (no apt lists?)"
  awk '{ print $2 }' "$work/uris" | python3 -c '
import sys, urllib.parse
for line in sys.stdin:
    name, version, _ = urllib.parse.unquote(line.strip()).split("_")
    print(f"{name}={version}")' | sort -u >"$work/closure"
  comm -23 "$work/closure" "$work/installed" >"$work/missing"
  step "downloading $(wc -l <"$work/missing") packages with apt-get download"
  # shellcheck disable=SC2046
  (cd "$repo.tmp" && apt-get download $(cat "$work/missing")) ||
    skip_or_fail "apt-get download of the dependencies failed (is the Debian mirror reachable?)"
  (cd "$repo.tmp" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null) ||
    fail "dpkg-scanpackages failed"
  rm -rf "$repo" && mv "$repo.tmp" "$repo"
  cp -r "$repo" "$work/context-deps"
  cat >"$work/Dockerfile" <<DOCKERFILE
FROM $base_image
COPY context-deps /var/local/sconectl-deps
RUN rm -f /etc/apt/sources.list.d/* \\
 && echo 'deb [trusted=yes] file:/var/local/sconectl-deps ./' >/etc/apt/sources.list
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build --quiet -t "$image" -f "$work/Dockerfile" "$work" >/dev/null ||
    fail "building $image failed"
fi

step "apt-get install ./$(basename "$deb") in a clean container without network"
mkdir -p "$work/pkg" && cp "$deb" "$work/pkg/"
cp -r "$root/examples/hello-world" "$work/app"
printf 'base_images:\n  python: %s\n' "$base_image" >"$work/config.yaml"
socket=${DOCKER_HOST#unix://}
docker run --rm --network none \
  -v "$work/pkg:/pkg:ro" -v "$work/app:/app-src:ro" -v "$work/config.yaml:/config.yaml:ro" \
  -v "$socket:/var/run/docker.sock" -v "$(command -v docker):/usr/local/bin/docker:ro" \
  -e DOCKER_BUILDKIT=0 -e DOCKER_HOST=unix:///var/run/docker.sock -e APP_IMAGE_REPO=sconectl-deb-test-$$ \
  "$image" bash -euo pipefail -c '
    cd /pkg
    apt-get update -qq
    apt-get install -y -qq ./sconectl_*.deb
    echo "--- sconectl --version"
    sconectl --version
    echo "--- sconectl version --format json"
    sconectl version --format json | tee /tmp/version.json
    grep -q "\"runtime_sim\": \"/usr/libexec/sconectl/sconectl-runtime-sim\"" /tmp/version.json
    echo "--- sconectl validate"
    cp -r /app-src /app && cd /app
    sconectl validate -f mesh.yaml -f service.yaml
    echo "--- sconectl apply -f service.yaml --runtime sim --no-push"
    API_USER=deb sconectl apply -f service.yaml --runtime sim --no-push --config /config.yaml
    test -f target/services/hello-user.json
    grep -q "\"runtime\": \"sim\"" target/services/hello-user.json
  ' >"$work/container.log" 2>&1 || { cat "$work/container.log" >&2; fail "the package did not install or run in the container"; }
cat "$work/container.log"
docker image rm "sconectl-deb-test-$$/hello-user:1" >/dev/null 2>&1 || true
step passed
