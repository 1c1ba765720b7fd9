#!/usr/bin/env bash
# Where a value written in a manifest may go. A distinct marker is planted in every value field of
# a service manifest and of a mesh manifest (local environment values, global defaults, explicit
# secret values, an AAD token's account, injection file contents, the mesh's env values and its
# image_secrets file); then `apply -f service.yaml` builds and pushes against the real Docker
# Engine and registry, and `apply -f mesh.yaml` writes the policies, the Helm chart and plain
# manifests. No marker may appear in the image (`docker save`: config, labels and every layer),
# `docker history --no-trunc`, the registry's blobs on disk, target/helm, target/manifests,
# target/build, or any command's stdout or stderr (at -v). Each must reach the descriptor or the
# policies, which feed the CAS: that shows the marker was planted where it is read. Then, against a
# local CAS, every value changes: `diff` (text and JSON) and `apply` name what changed and show
# none of the old or new values; `diff --show-values` does show them.
# Not planted: SCONE_* variables, which configure the runtime before attestation and are image ENV
# by design, and paths, names and commands, which the image itself shows.
#
#   tests/integration/confidential_values_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'stop_cas -KILL; docker rmi -f "${image:-none}" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
test_name=confidential_values_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
logs="$work/logs"
mkdir -p "$logs"

start_infra

# One marker per field, unique to this run so that old registry data cannot match.
run_id="$(date +%s)-$$"
declare -A marker
for field in LOCAL GLOBALDEFAULT SECRET AADTENANT AADCLIENT AADSECRET INJECTED MESHGLOBAL MESHSERVICE IMAGESECRET; do
  marker[$field]="CONFIDENTIAL-$field-$run_id"
done

repo="$REGISTRY/sconectl-confidential-$$"
image="$repo/hello-user:1"
export APP_IMAGE_REPO="$repo" APP_TAG=1 UPLOAD_MODE=NoUpload
cp -r "$root/examples/hello-world" "$work/app"
cd "$work/app"
cat >"$work/config.yaml" <<CONFIG
base_images:
  python: $base_image
CONFIG

cat >service.yaml <<YAML
apiVersion: scone/5.8
kind: genservice
environment:
  local:
    - name: SCONE_HEAP
      value: 256M
    - name: API_PASSWORD
      value: "\$\$SCONE::api_password\$\$"
    - name: DB_PASS
      value: "${marker[LOCAL]}"
    - name: GREETING_FILE
      value: /run/hello-user/greeting.conf
  global:
    - name: API_USER
    - name: GREETING
      value: "${marker[GLOBALDEFAULT]}"
secrets:
  global:
    - name: api_password
      kind: ascii
      size: 16
    - name: explicit_token
      kind: ascii
      value: "${marker[SECRET]}"
    - name: graph_token
      kind: aad-token
      tenant_id: "${marker[AADTENANT]}"
      client_id: "${marker[AADCLIENT]}"
      application_secret: "${marker[AADSECRET]}"
injection_files:
  - path: /run/hello-user/greeting.conf
    content: |
      greeting={{GREETING}}
      token=${marker[INJECTED]}
build:
  name: hello-user
  kind: python
  to: $image
  pwd: /app
  command: python3 greet.py
  requirements: requirements.txt
  copy:
    - greet.py
YAML

cat >mesh.yaml <<YAML
apiVersion: scone/5.8
kind: mesh
cas:
  - name: cas
    alias: ["image", "security", "access", "attestation"]
    cas_url: 127.0.0.1:8081
    mode: NoUpload
policy:
  namespace: confidential-demo
  tolerate: "outdated-tcb, software-hardening-needed"
env:
  - service: global
    env:
      - name: API_USER
        value: "${marker[MESHGLOBAL]}"
      - name: imagePullSecrets
        value: sconeapps
      - name: APP_SERVICE_PORT
        value: 8080
  - service: hello-user
    env:
      - name: GREETING
        value: "${marker[MESHSERVICE]}"
services:
  - name: hello-user
    image: $image
YAML

cat >image-secrets.yaml <<YAML
- name: api_password
  kind: ascii
  value: "${marker[IMAGESECRET]}"
YAML
cp mesh.yaml mesh-with-image-secrets.yaml
printf '    image_secrets: image-secrets.yaml\n' >>mesh-with-image-secrets.yaml

mesh_cmd() { "$sconectl" -v --format json apply -f "$1" --dry-run -o yaml; }

step "apply -f service.yaml: build, measure, push"
run service apply -f service.yaml --config "$work/config.yaml"
digest=$(json_field "$logs/service.json" 'd["digest"]')
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no pushed digest: $digest"

step "apply -f mesh.yaml from the descriptor: policies, chart and plain manifests"
run mesh-secrets apply -f mesh-with-image-secrets.yaml --dry-run -o yaml
cp -r target/policies "$work/policies-image-secrets"
run mesh apply -f mesh.yaml --dry-run -o yaml
[ "$(json_field "$logs/mesh.json" 'd["services"][0]["source"]')" = descriptor ] || fail "the mesh did not use the descriptor"
[ -d target/manifests ] || fail "no target/manifests"

step "without the descriptor, the image's labels give no value: refused, naming what is missing"
mv target/services "$work/services-aside"
if mesh_cmd mesh.yaml --no-pull >"$logs/labels.json" 2>"$logs/labels.err"; then
  fail "the mesh was generated from labels that should carry no value"
fi
grep -q "the value of environment.local DB_PASS is not in labels of" "$logs/labels.err" ||
  { cat "$logs/labels.err" >&2; fail "unclear refusal of a mesh from labels"; }
mv "$work/services-aside" target/services

step "the markers reach what feeds the CAS"
policy=target/policies/confidential-demo/hello-user.yaml
for field in LOCAL SECRET AADTENANT AADCLIENT AADSECRET INJECTED MESHGLOBAL MESHSERVICE; do
  grep -q -- "${marker[$field]}" "$policy" || fail "${marker[$field]} is not in $policy: the test plants it nowhere it is read"
done
grep -q -- "${marker[IMAGESECRET]}" "$work/policies-image-secrets/confidential-demo/hello-user.yaml" ||
  fail "the image_secrets value is not in the policy"
grep -q -- "${marker[GLOBALDEFAULT]}" target/services/hello-user.json || fail "the global default is not in the descriptor"

step "docker save, docker history, docker inspect of the image"
docker save -o "$work/image.tar" "$image"
mkdir "$work/image"
tar -xf "$work/image.tar" -C "$work/image"
# Layers: layer.tar files (legacy layout) and blobs (OCI layout), gzip-compressed or not.
while IFS= read -r -d '' layer; do
  out="$work/image-layers/$(basename "$(dirname "$layer")")-$(basename "$layer")"
  mkdir -p "$out"
  if tar -tf "$layer" >/dev/null 2>&1; then
    tar -xf "$layer" -C "$out" 2>/dev/null || true
  elif gzip -t "$layer" 2>/dev/null; then
    tar -xzf "$layer" -C "$out" 2>/dev/null || true
  fi
done < <(find "$work/image" -type f \( -name '*.tar' -o -path '*/blobs/sha256/*' \) -print0)
docker history --no-trunc "$image" >"$work/history.txt"
docker image inspect "$image" >"$work/inspect.json"
grep -q '"dev.sconectl.service"' "$work/inspect.json" || fail "the image has no dev.sconectl.service label"

step "the registry's blobs of this repository"
registry_data="${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}/registry/data/docker/registry/v2"
[ -d "$registry_data/repositories" ] || fail "no registry storage at $registry_data"
repository_dir="$registry_data/repositories/${repo#"$REGISTRY"/}/hello-user"
[ -d "$repository_dir" ] || fail "the registry has no $repository_dir"
mkdir -p "$work/registry"
count=0
while IFS= read -r link; do
  blob_digest=$(cat "$link")
  hex=${blob_digest#sha256:}
  blob="$registry_data/blobs/sha256/${hex:0:2}/$hex/data"
  [ -f "$blob" ] || fail "blob $blob_digest is missing"
  if gzip -t "$blob" 2>/dev/null; then
    gzip -dc "$blob" >"$work/registry/$hex"
  else
    cp "$blob" "$work/registry/$hex"
  fi
  count=$((count + 1))
done < <(find "$repository_dir" -name link -path '*sha256*')
[ "$count" -ge 3 ] || fail "only $count blobs linked from $repository_dir"

step "no marker in the image, its history, the registry, the chart, the manifests, the build context or any output"
printf '%s\n' "${marker[@]}" >"$work/markers"
for place in "$work/image" "$work/image-layers" "$work/history.txt" "$work/inspect.json" "$work/registry" \
  target/helm target/manifests target/build "$logs"; do
  [ -e "$place" ] || fail "$place is missing: nothing to scan"
  if found=$(grep -rlaF -f "$work/markers" -- "$place"); then
    fail "a manifest value found in $place: $(echo "$found" | head -3): $(grep -rhoaF -f "$work/markers" -- "$place" | sort -u | head -5 | tr '\n' ' ')"
  fi
done

step "diff and apply against a CAS after every value changed: the changes are named, never shown"
export SCONECTL_CAS_CONFIG="$work/client"
start_cas
sed -e "s/cas_url: 127.0.0.1:8081/cas_url: $CAS_ADDR\n    cas_key: $CAS_KEY/" -e 's/mode: NoUpload/mode: Upload/' mesh.yaml >mesh-upload.yaml
# The local CAS has no Azure AD: the aad-token secret stays out of what is uploaded.
python3 - target/services/hello-user.json <<'PY'
import json, sys
path = sys.argv[1]
descriptor = json.load(open(path))
descriptor["service"]["secrets"] = [s for s in descriptor["service"]["secrets"] if s["kind"] != "aad-token"]
json.dump(descriptor, open(path, "w"), indent=2)
PY
run upload apply -f mesh-upload.yaml
# New values everywhere: in the mesh, and in the descriptor, which holds the service's values
# (what a new `apply -f service.yaml` would record).
: >"$work/all-markers"
for field in "${!marker[@]}"; do
  printf '%s\n%s\n' "${marker[$field]}" "${marker[$field]}-NEW" >>"$work/all-markers"
  sed -i "s/${marker[$field]}/${marker[$field]}-NEW/g" mesh-upload.yaml target/services/hello-user.json
done
rc=0
"$sconectl" diff -f mesh-upload.yaml >"$logs/diff.txt" 2>"$logs/diff.err" || rc=$?
[ "$rc" = 3 ] || fail "diff after the changes: exit $rc: $(cat "$logs/diff.err")"
grep -q "API_USER changes" "$logs/diff.txt" || fail "diff does not name the changed API_USER: $(cat "$logs/diff.txt")"
grep -q "DB_PASS changes" "$logs/diff.txt" || fail "diff does not name the changed DB_PASS: $(cat "$logs/diff.txt")"
grep -q "injection file /run/hello-user/greeting.conf changes" "$logs/diff.txt" || fail "diff does not report the changed injection file: $(cat "$logs/diff.txt")"
rc=0
"$sconectl" --format json diff -f mesh-upload.yaml >"$logs/diff.json" 2>"$logs/diff-json.err" || rc=$?
[ "$rc" = 3 ] || fail "diff --format json: exit $rc"
"$sconectl" -v apply -f mesh-upload.yaml >"$logs/apply-changed.out" 2>"$logs/apply-changed.err" ||
  fail "apply of the changed values: $(tail -3 "$logs/apply-changed.err")"
for output in diff.txt diff.err diff.json diff-json.err apply-changed.out apply-changed.err; do
  if found=$(grep -aoF -f "$work/all-markers" "$logs/$output" | sort -u | sed -n 1,3p); then
    fail "a manifest value in the output of $output: $found"
  fi
done
# Asked for, the values are shown: the markers were planted where diff reads them.
sed -i "s/-NEW/-NEWER/g" mesh-upload.yaml
rc=0
"$sconectl" diff -f mesh-upload.yaml --show-values >"$logs/shown.txt" 2>&1 || rc=$?
grep -q -- "${marker[MESHGLOBAL]}-NEWER" "$logs/shown.txt" || fail "diff --show-values does not show the value: $(cat "$logs/shown.txt")"
rm "$logs/shown.txt"

echo "confidential values integration: all checks passed"
