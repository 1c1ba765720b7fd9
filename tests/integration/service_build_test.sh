#!/usr/bin/env bash
# `sconectl apply -f service.yaml` against a real Docker Engine and a real registry (TLS and
# htpasswd) on 127.0.0.1, with a locally made Python base image: the example builds, pushes, is
# pulled back by digest and runs; the content measurement is reproducible; an unchanged apply
# builds nothing; a changed program changes the measurement; no explicit secret value reaches the
# image or the build context; a push without credentials fails with a clear message. Then the mesh
# step on the built image: from the descriptor, and from the image's labels (measured again, with
# the same result) for a service whose manifest holds no value that labels withhold.
#
#   tests/integration/service_build_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
test_name=service_build_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"

start_infra

repo="$REGISTRY/sconectl-test-$$"
export APP_IMAGE_REPO="$repo" APP_TAG=1
cp -r "$root/examples/hello-world" "$work/app"
cd "$work/app"
cat >"$work/config.yaml" <<CONFIG
base_images:
  python: $base_image
CONFIG
# A manifest with explicit secrets, to scan for them later.
python3 - <<'PY'
import re
text = open("service.yaml").read()
text = text.replace("""    - name: api_password
      kind: ascii
      size: 16
""", """    - name: api_password
      kind: ascii
      size: 16
    - name: explicit_token
      kind: ascii
      value: "EXPLICIT-SECRET-VALUE-4711"
""")
text = text.replace("      greeting={{GREETING}}\n", "      greeting={{GREETING}}\n      token=INJECTED-SECRET-CONTENT-0815\n")
open("service.yaml", "w").write(text)
PY

apply() { "$sconectl" --format json apply -f service.yaml --config "$work/config.yaml" "$@"; }

echo "--- first apply: build, measure, push"
apply >"$work/first.json" 2>"$work/first.err" || { cat "$work/first.err" >&2; fail "first apply failed"; }
[ "$(json_field "$work/first.json" 'd["up_to_date"]')" = False ] || fail "first apply claims up to date"
digest=$(json_field "$work/first.json" 'd["digest"]')
measurement=$(json_field "$work/first.json" 'd["measurement"]["value"]')
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no pushed digest: $digest"
[[ $measurement =~ ^[0-9a-f]{64}$ ]] || fail "no measurement: $measurement"
[ -f target/services/hello-user.json ] || fail "no descriptor"
[ "$(stat -c %a target/services/hello-user.json)" = 600 ] || fail "descriptor is not private"

echo "--- pulled back by digest, it runs"
docker rmi -f "$repo/hello-user:1" >/dev/null
docker pull -q "$repo/hello-user@$digest" >/dev/null || fail "cannot pull $repo/hello-user@$digest"
output=$(docker run --rm --network "${DOCKER_NETWORK:-bridge}" -e API_USER=tester "$repo/hello-user@$digest")
[ "$(echo "$output" | sed -n 1p)" = "Hello, 'tester' - no API_PASSWORD was passed along (the program runs without its CAS configuration)" ] || fail "unexpected greeting: $output"

echo "--- an unchanged apply builds nothing"
docker tag "$repo/hello-user@$digest" "$repo/hello-user:1"
apply --no-push >"$work/second.json" 2>"$work/second.err" || { cat "$work/second.err" >&2; fail "second apply failed"; }
[ "$(json_field "$work/second.json" 'd["up_to_date"]')" = True ] || fail "second apply rebuilt"
grep -q "building" "$work/second.err" && fail "second apply ran a build"

echo "--- an unchanged apply with push asks the registry and pushes nothing; after the tag is deleted there, it pushes"
"$sconectl" -v --format json apply -f service.yaml --config "$work/config.yaml" >"$work/held.json" 2>"$work/held.err" || { cat "$work/held.err" >&2; fail "apply with push failed"; }
grep -q "the registry holds $repo/hello-user:1 ($digest)" "$work/held.err" || fail "the registry was not asked: $(cat "$work/held.err")"
# sconectl asked the registry itself (HEAD of the manifest, the stored login, the CA in certs.d).
manifest_url="https://$REGISTRY/v2/${repo#"$REGISTRY"/}/hello-user/manifests"
grep -qF "asked the registry: HEAD $manifest_url/1 with basic auth answered $digest" "$work/held.err" || fail "sconectl did not ask the registry itself: $(cat "$work/held.err")"
basic_auth=$(printf '%s:%s' "$REGISTRY_USER" "$(cat "$REGISTRY_PASSWORD_FILE")" | base64 -w0)
grep -qF -e "$(cat "$REGISTRY_PASSWORD_FILE")" -e "$basic_auth" "$work/held.err" && fail "the log shows the registry's password"
grep -q "pushing" "$work/held.err" && fail "an unchanged apply pushed: $(cat "$work/held.err")"
[ "$(json_field "$work/held.json" 'd["digest"]')" = "$digest" ] || fail "the recorded digest changed"
registry_data="${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}/registry/data/docker/registry/v2"
tag_dir="$registry_data/repositories/${repo#"$REGISTRY"/}/hello-user/_manifests/tags/1"
[ -d "$tag_dir" ] || fail "no tag 1 in the registry's storage at $tag_dir"
rm -rf "$tag_dir"
apply >"$work/repushed.json" 2>"$work/repushed.err" || { cat "$work/repushed.err" >&2; fail "apply after the tag was deleted failed"; }
grep -q "pushing $repo/hello-user:1" "$work/repushed.err" || fail "the deleted tag was not pushed again: $(cat "$work/repushed.err")"
[ -d "$tag_dir" ] || fail "the registry has no tag 1 again"
[ "$(json_field "$work/repushed.json" 'd["digest"]')" = "$digest" ] || fail "pushed again under another digest"

echo "--- after the manifest is deleted by digest in the registry, it pushes again"
status=$(printf 'user = "%s:%s"\n' "$REGISTRY_USER" "$(cat "$REGISTRY_PASSWORD_FILE")" |
  curl -sS -K - -o /dev/null -w '%{http_code}' --cacert "$REGISTRY_CA" -X DELETE "$manifest_url/$digest")
[ "$status" = 202 ] || fail "the registry did not delete the manifest $digest: HTTP $status"
"$sconectl" -v --format json apply -f service.yaml --config "$work/config.yaml" >"$work/undeleted.json" 2>"$work/undeleted.err" || { cat "$work/undeleted.err" >&2; fail "apply after the manifest was deleted failed"; }
grep -qF "HEAD $manifest_url/1 answered HTTP 404" "$work/undeleted.err" || fail "the registry's 404 was not seen: $(cat "$work/undeleted.err")"
grep -q "pushing $repo/hello-user:1" "$work/undeleted.err" || fail "the deleted manifest was not pushed again: $(cat "$work/undeleted.err")"
[ "$(json_field "$work/undeleted.json" 'd["digest"]')" = "$digest" ] || fail "pushed again under another digest"
apply >"$work/held-again.json" 2>"$work/held-again.err" || { cat "$work/held-again.err" >&2; fail "apply after the push failed"; }
grep -q "the registry holds $repo/hello-user:1 ($digest)" "$work/held-again.err" || fail "the pushed-again manifest is not held: $(cat "$work/held-again.err")"

echo "--- behind our back: an image deleted, or replaced under its tag, is noticed"
docker rmi -f "$repo/hello-user:1" >/dev/null
apply --no-push >"$work/deleted.json" 2>"$work/deleted.err" || { cat "$work/deleted.err" >&2; fail "apply after docker rmi failed"; }
[ "$(json_field "$work/deleted.json" 'd["up_to_date"]')" = False ] || fail "a deleted image was taken as up to date"
docker tag "$base_image" "$repo/hello-user:1"
if "$sconectl" apply -f mesh.yaml --dry-run >"$work/replaced-mesh.out" 2>"$work/replaced-mesh.err"; then
  fail "the mesh used a descriptor of an image that was replaced under its tag"
fi
grep -q "the local image $repo/hello-user:1 is" "$work/replaced-mesh.err" || { cat "$work/replaced-mesh.err" >&2; fail "unclear refusal of a replaced image"; }
apply --no-push >"$work/replaced.json" 2>"$work/replaced.err" || { cat "$work/replaced.err" >&2; fail "apply after docker tag failed"; }
[ "$(json_field "$work/replaced.json" 'd["up_to_date"]')" = False ] || fail "an image replaced under its tag was taken as up to date"
[ "$(json_field "$work/replaced.json" 'd["measurement"]["value"]')" = "$measurement" ] || fail "the rebuilt image measures differently"

echo "--- two clean builds give the same content measurement"
rm -rf target
docker rmi -f "$repo/hello-user:1" >/dev/null
apply --no-push >"$work/clean.json" 2>"$work/clean.err" || { cat "$work/clean.err" >&2; fail "clean apply failed"; }
[ "$(json_field "$work/clean.json" 'd["measurement"]["value"]')" = "$measurement" ] \
  || fail "measurement differs across clean builds"

echo "--- the mesh step reads the service from its descriptor"
mesh() { "$sconectl" --format json apply -f mesh.yaml --dry-run "$@"; }
mesh >"$work/mesh.json" 2>"$work/mesh.err" || { cat "$work/mesh.err" >&2; fail "apply -f mesh.yaml failed"; }
[ "$(json_field "$work/mesh.json" 'd["services"][0]["source"]')" = descriptor ] || fail "mesh did not use the descriptor"
grep -q "\"$measurement\"" target/policies/hello-world-demo/hello-user.yaml || fail "policy lacks the measurement"
grep -q "EXPLICIT-SECRET-VALUE-4711" target/policies/hello-world-demo/hello-user.yaml || fail "policy lacks the explicit secret"
if grep -rq -e EXPLICIT-SECRET-VALUE-4711 -e INJECTED-SECRET-CONTENT-0815 target/helm "$work/mesh.json" "$work/mesh.err"; then
  fail "an explicit secret reached the chart or the output"
fi

echo "--- without a descriptor, the image's labels do not carry explicit secrets: refused"
mv target/services "$work/services-aside"
if mesh --no-pull >"$work/labels.json" 2>"$work/labels.err"; then fail "labels without secret values were accepted"; fi
grep -q "the explicit values of secrets explicit_token are not in labels of" "$work/labels.err" || { cat "$work/labels.err" >&2; fail "unclear refusal"; }
grep -q "EXPLICIT-SECRET-VALUE-4711" "$work/labels.err" && fail "the refusal shows the secret"

grep -q "the value of environment.local GREETING_FILE is not in labels of" "$work/labels.err" || { cat "$work/labels.err" >&2; fail "a local value was taken from the labels"; }

echo "--- a service without local values, explicit secrets or injection files: the mesh measures the image itself, with the same result"
cp service.yaml "$work/service-with-secrets.yaml"
python3 - <<'PY'
text = open("service.yaml").read()
text = text.replace("""    - name: explicit_token
      kind: ascii
      value: "EXPLICIT-SECRET-VALUE-4711"
""", "")
# Injection file contents stay out of labels as well, and so do environment values: keep only
# the SCONE_ variables, which are the image's ENV.
text = text[:text.index("injection_files:")] + text[text.index("build:"):]
text = text[:text.index("    - name: API_PASSWORD")] + text[text.index("  global:"):]
open("service.yaml", "w").write(text)
PY
apply --no-push >"$work/plain.json" 2>"$work/plain.err" || { cat "$work/plain.err" >&2; fail "plain apply failed"; }
plain_measurement=$(json_field "$work/plain.json" 'd["measurement"]["value"]')
rm -rf target/services
mesh --no-pull >"$work/labels.json" 2>"$work/labels.err" || { cat "$work/labels.err" >&2; fail "mesh from labels failed"; }
[ "$(json_field "$work/labels.json" 'd["services"][0]["source"]')" = image_labels ] || fail "mesh did not use the labels"
[ "$(json_field "$work/labels.json" 'd["services"][0]["measurement"]["value"]')" = "$plain_measurement" ] \
  || fail "the mesh's measurement of the image differs from apply -f service.yaml's"
mv "$work/service-with-secrets.yaml" service.yaml
rm -rf target/services && mv "$work/services-aside" target/services
apply --no-push >"$work/restored.json" 2>"$work/restored.err" || { cat "$work/restored.err" >&2; fail "restoring apply failed"; }

echo "--- no explicit secret value in the image or the build context"
docker save -o "$work/image.tar" "$repo/hello-user:1"
mkdir "$work/image" && tar -xf "$work/image.tar" -C "$work/image"
for layer in $(find "$work/image" -name '*.tar' -o -path '*/blobs/sha256/*' -type f); do
  tar -xf "$layer" -C "$work/image" 2>/dev/null || true
done
for secret in EXPLICIT-SECRET-VALUE-4711 INJECTED-SECRET-CONTENT-0815; do
  if grep -rqa "$secret" "$work/image" target/build; then fail "$secret found in the image or context"; fi
  docker image inspect "$repo/hello-user:1" | grep "$secret" >/dev/null && fail "$secret found in the image labels"
  grep -q "$secret" target/services/hello-user.json || fail "$secret missing from the descriptor"
done

echo "--- a changed program changes the measurement"
echo 'print("changed")' >>greet.py
apply --no-push >"$work/changed.json" 2>"$work/changed.err" || { cat "$work/changed.err" >&2; fail "changed apply failed"; }
[ "$(json_field "$work/changed.json" 'd["measurement"]["value"]')" != "$measurement" ] \
  || fail "measurement did not change with the program"

echo "--- a push without credentials fails clearly"
mkdir "$work/no-login"
if DOCKER_CONFIG="$work/no-login" apply --force >"$work/denied.json" 2>"$work/denied.err"; then
  fail "push without credentials succeeded"
fi
grep -q "refused by the registry: not logged in" "$work/denied.err" || { cat "$work/denied.err" >&2; fail "unclear push error"; }

docker rmi -f "$repo/hello-user:1" >/dev/null 2>&1 || true
echo "service build integration: all checks passed"
