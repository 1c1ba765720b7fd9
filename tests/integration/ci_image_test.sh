#!/usr/bin/env bash
# The CI image (scripts/ci-image.sh): built from this build directory, pushed to the local
# registry, pulled back and run as a pipeline step would: `docker run <image> validate -f
# mesh.yaml` on examples/hello-world. Also: it runs as a non-root user, holds no compiler and no
# shell, finds its simulation runtime, loads libcurl (a CAS command reaches the network step), and
# its Docker CLI talks to the Engine through the mounted socket.
#   tests/integration/ci_image_test.sh BUILD_DIRECTORY [MAX_MB]
# MAX_MB (default 150) bounds the image's size; a sanitizer build passes a larger bound.
# Exit codes: 0 passed, 1 failed, 125 skipped (no Docker Engine or registry; never in CI).
set -euo pipefail
build=$(cd "$1" && pwd)
max_mb=${2:-150}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=ci_image_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
pushed=
trap 'rm -rf "$work"; [ -z "$pushed" ] || docker image rm "$pushed" sconectl-ci-test:$$ >/dev/null 2>&1 || true' EXIT

"$root/scripts/infra/docker.sh" >"$work/docker.log" 2>&1 || skip_or_fail "no Docker Engine: $(tail -3 "$work/docker.log")"
eval "$("$root/scripts/infra/docker.sh" --print-env)"
registry_env=$("$root/scripts/infra/registry.sh" --print-env 2>"$work/registry.log") ||
  skip_or_fail "no local registry: $(tail -3 "$work/registry.log")"
eval "$registry_env"
export DOCKER_CONFIG

step "scripts/ci-image.sh $build"
image=$("$root/scripts/ci-image.sh" "$build" "sconectl-ci-test:$$") || fail "scripts/ci-image.sh failed"
pushed="$REGISTRY/sconectl-ci-test:$$"
docker tag "$image" "$pushed"
docker push "$pushed" >"$work/push.log" 2>&1 || fail "docker push $pushed: $(tail -3 "$work/push.log")"
docker image rm "$pushed" "$image" >/dev/null
docker pull "$pushed" >"$work/pull.log" 2>&1 || fail "docker pull $pushed: $(tail -3 "$work/pull.log")"

user=$(docker image inspect --format '{{.Config.User}}' "$pushed")
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "the image runs as '$user', not a non-root user"
docker create --name "sconectl-ci-test-$$" "$pushed" >/dev/null
docker export "sconectl-ci-test-$$" | tar -t >"$work/files"
docker rm "sconectl-ci-test-$$" >/dev/null
if grep -E '(^|/)(gcc|g\+\+|cc1plus|cc|c\+\+|ld|as|sh|bash)$' "$work/files"; then
  fail "the image holds a compiler or a shell (above)"
fi
size=$(docker image inspect --format '{{.Size}}' "$pushed")
step "image $pushed: $((size / 1000000)) MB, user $user"
[ "$size" -lt $((max_mb * 1000000)) ] || fail "the image is $((size / 1000000)) MB, more than $max_mb MB"

step "docker run $pushed validate -f mesh.yaml (examples/hello-world)"
cp -r "$root/examples/hello-world" "$work/app"
chmod -R a+rX "$work/app"
docker run --rm -v "$work/app:/work:ro" "$pushed" validate -f mesh.yaml -f service.yaml >"$work/validate.out" 2>&1 ||
  { cat "$work/validate.out" >&2; fail "validate in the image failed"; }
grep -q '^mesh.yaml: valid mesh manifest$' "$work/validate.out" || fail "unexpected: $(cat "$work/validate.out")"
cat "$work/validate.out"
# A broken manifest fails the step (exit 2), naming the file.
printf 'apiVersion: scone/5.8\nkind: mesh\nservices: 7\n' >"$work/app/broken.yaml"
chmod a+r "$work/app/broken.yaml"
rc=0
docker run --rm -v "$work/app:/work:ro" "$pushed" validate -f broken.yaml >"$work/broken.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q 'broken.yaml' "$work/broken.out" || fail "broken.yaml: exit $rc: $(cat "$work/broken.out")"

docker run --rm "$pushed" version --format json >"$work/version.json" || fail "version in the image failed"
[ "$(json_field "$work/version.json" 'd["runtime_sim"]')" = /usr/libexec/sconectl/sconectl-runtime-sim ] ||
  fail "the image's sconectl does not find its runtime: $(cat "$work/version.json")"
# libcurl is loaded on first use: a CAS command gets as far as connecting (nothing listens there).
rc=0
docker run --rm --network none "$pushed" --format json cas attest 127.0.0.1:9 --only-for-testing-trust-any >"$work/attest.out" 2>&1 || rc=$?
grep -qi 'libcurl\|cannot open shared' "$work/attest.out" && fail "libcurl did not load in the image: $(cat "$work/attest.out")"
grep -qi 'connect\|refused' "$work/attest.out" || fail "cas attest in the image: exit $rc: $(cat "$work/attest.out")"
# The Docker CLI that `apply -f service.yaml` builds through, talking to the mounted socket.
server=$(docker run --rm --user 0 -v /var/run/docker.sock:/var/run/docker.sock --entrypoint /usr/bin/docker "$pushed" \
  version --format '{{.Server.Version}}' 2>&1) || fail "the Docker CLI in the image: $server"
step "the image's Docker CLI reaches the Engine $server through the mounted socket"
step passed
