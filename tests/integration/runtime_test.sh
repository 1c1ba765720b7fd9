#!/usr/bin/env bash
# The public tutorial's "Verify the Desired Protection Level" with the simulation runtime (no SGX:
# the measurement is self-reported; these checks show the protocol, not hardware protection):
#  - confidentiality: the program prints the checksum of the password the CAS generated, which is
#    in no image, inspect output, target/ file, chart or log, and not in `docker exec`'s view;
#    the program is non-dumpable: a `docker exec` shell cannot read /proc/1/environ, mem or maps,
#    and finds the password nowhere under /proc (with --cap-add SYS_PTRACE it does);
#  - integrity: host environment does not override the session; a program changed in a container,
#    or rebuilt under the same tag without applying the mesh, fails attestation;
#  - consistency: version 2 runs after the mesh is applied, the version-1 image under tag 2 fails;
#  - 20,000 nonce requests without a certificate lock no runtime out;
#  - a wrong SCONE_CAS_KEY stops the runtime before it sends anything; a sim-built service in a
#    mesh that does not tolerate simulation is refused (exit 2); the runtime works in an image
#    with nothing else in it (FROM scratch).
#   tests/integration/runtime_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=runtime_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
containers=()
p="runtime-$$-"  # container names: another run of this test on the machine has its own
cleanup() {
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  stop_cas -KILL
  rm -rf "$work"
}
trap cleanup EXIT

for tool in sqlite3 md5sum; do command -v "$tool" >/dev/null || skip_or_fail "$tool is not installed"; done
start_infra
start_cas
step "Docker Engine, registry $REGISTRY, base image $base_image, local CAS $CAS_ADDR"

export SCONECTL_CAS_CONFIG="$work/client" CAS_ADDR CAS_KEY
export APP_IMAGE_REPO="$REGISTRY/sconectl-runtime-$$" APP_NAMESPACE="runtime-$$"
export APP_TOLERATE="outdated-tcb, software-hardening-needed, simulation"
unset API_USER
session="$APP_NAMESPACE/hello-user"
image="$APP_IMAGE_REPO/hello-user"
printf 'base_images:\n  python: %s\n' "$base_image" >"$work/config.yaml"
cp -r "$root/examples/hello-world" "$work/app"
cd "$work/app"
logs="$work/logs"
mkdir -p "$logs"

run service-1 apply -f service.yaml --config "$work/config.yaml" --runtime sim
[ "$(json_field "$logs/service-1.json" 'd["runtime"]')" = sim ] || fail "the descriptor does not record runtime sim"
[ "$(docker image inspect -f '{{index .Config.Labels "dev.sconectl.runtime"}}' "$image:1")" = sim ] ||
  fail "the image has no dev.sconectl.runtime=sim label"
built=$(json_field "$logs/service-1.json" 'd["measurement"]["value"]')
reported=$(docker run --rm -e SCONE_HASH=1 "$image:1" 2>/dev/null)
[ "$reported" = "$built" ] || fail "the runtime measures $reported, the build recorded $built"
step "build-time and run-time measurement agree: $built"
docker tag "$image:1" "$image:version-1"

set +e
APP_TOLERATE=outdated-tcb "$sconectl" apply -f mesh.yaml --mode debug --dry-run >/dev/null 2>"$logs/no-toleration.err"
code=$?
set -e
[ "$code" = 2 ] || fail "a sim-built service in a mesh without the simulation toleration: exit $code, not 2"
grep -q "add 'simulation' to policy.tolerate" "$logs/no-toleration.err" || fail "the refusal does not name the fix: $(cat "$logs/no-toleration.err")"
run mesh-1 apply -f mesh.yaml --mode debug
grep -q 'SCONE_CAS_KEY' target/helm/templates/deployment.yaml || fail "the chart does not pass SCONE_CAS_KEY"
grep -q 'medium: Memory' target/helm/templates/deployment.yaml || fail "the chart has no memory volume"
step "mesh applied: policies uploaded"

# --- the service access token: in a private Secret file, never in the chart or the output
secret_file=$(json_field "$logs/mesh-1.json" 'd["secrets"][0]')
[ "$(stat -c %a "$secret_file")" = 600 ] || fail "$secret_file is not private (mode $(stat -c %a "$secret_file"))"
token=$(sed -n 's/^  token: "\([0-9a-f]*\)"$/\1/p' "$secret_file")
[ ${#token} = 64 ] || fail "$secret_file holds no 64-digit token"
grep -q "service_access_token: \"$token\"" "target/policies/$session.yaml" || fail "the session does not ask for the token"
if grep -rqF "$token" target/helm "$logs"; then fail "the token is in the chart or the output: $(grep -rlF "$token" target/helm "$logs")"; fi
grep -q 'secretKeyRef' target/helm/templates/deployment.yaml || fail "the chart does not take the token from a Secret"
step "service access token: in $secret_file (0600) and the session only"

# start NAME IMAGE [docker run options...]: runs IMAGE as the chart's pod environment would.
# The token is passed by name (from this shell's environment), so it is on no command line.
export SCONE_SERVICE_ACCESS_TOKEN=$token
pod_env=(-e "SCONE_CONFIG_ID=$session/hello-user" -e "SCONE_CAS_ADDR=$CAS_ADDR" -e "SCONE_CAS_KEY=$CAS_KEY"
  -e SCONE_SERVICE_ACCESS_TOKEN)
start() {
  local name=$1 ref=$2; shift 2
  containers+=("$name")
  docker run -d --name "$name" --network host --tmpfs /run/hello-user "${pod_env[@]}" "$@" "$ref" >/dev/null
}
wait_exit_or_line() { # wait_exit_or_line NAME PATTERN: until PATTERN is in its log or it exited
  local exited_at=
  for _ in $(seq 600); do
    docker logs "$1" 2>&1 | grep "$2" >/dev/null && return 0
    # The daemon may still be copying the last lines into the log when the state says stopped:
    # after the exit, give the log up to 3 more seconds to show the line.
    if [ -z "$exited_at" ] && [ "$(docker inspect -f '{{.State.Running}}' "$1")" = false ]; then exited_at=$SECONDS; fi
    [ -n "$exited_at" ] && [ $((SECONDS - exited_at)) -ge 3 ] && return 0
    sleep 0.1
  done
}
password=$(sqlite3 "$cas_data/cas.db" "select value from secrets where session = '$session' and name = 'api_password'")
[ ${#password} = 16 ] || fail "the CAS holds no 16-character api_password for $session"
checksum=$(printf '%s' "$password" | md5sum | cut -d' ' -f1)

# --- confidentiality
start "$p"pod-1 "$image:1"
wait_exit_or_line "$p"pod-1 "checksum"
docker logs "$p"pod-1 >"$logs/pod-1.out" 2>"$logs/pod-1.err"
[ "$(head -1 "$logs/pod-1.out")" = "Hello, 'myself' - thanks for passing along the API_PASSWORD" ] ||
  fail "unexpected greeting: $(cat "$logs/pod-1.out" "$logs/pod-1.err")"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-1.out" ||
  fail "the checksum is not the MD5 of the CAS's value: $(cat "$logs/pod-1.out")"
grep -q "SIMULATION: no SGX" "$logs/pod-1.err" || fail "the runtime does not say it is a simulation"
[ -z "$(docker exec "$p"pod-1 sh -c 'echo $API_PASSWORD')" ] || fail "docker exec sees API_PASSWORD"
step "confidentiality: the program got the CAS's password (checksum $checksum); docker exec sees none"
# A shell in the container (root, no CAP_SYS_PTRACE) cannot read the program: it is non-dumpable.
if docker exec "$p"pod-1 cat /proc/1/environ >"$logs/environ.out" 2>&1; then
  fail "docker exec reads the program's /proc/1/environ ($(wc -c <"$logs/environ.out") bytes)"
fi
grep -q "Permission denied" "$logs/environ.out" || fail "reading /proc/1/environ: $(cat "$logs/environ.out")"
for file in mem maps; do
  if docker exec "$p"pod-1 head -c 1 "/proc/1/$file" >/dev/null 2>&1; then fail "docker exec reads /proc/1/$file"; fi
done
# The password goes to grep on stdin, so no process's command line or environment holds it.
found=$(printf '%s\n' "$password" |
  timeout 120 docker exec -i "$p"pod-1 sh -c 'grep -rlsF --exclude=pagemap --exclude=mem -f /dev/stdin /proc/[0-9]*' || true)
[ -z "$found" ] || fail "grep -r finds the password under /proc in the container: $found"
if grep -q "stays readable" "$logs/pod-1.err"; then fail "the runtime left the program dumpable: $(cat "$logs/pod-1.err")"; fi
docker exec "$p"pod-1 sh -c 'grep -q "^Gid:[[:space:]]*65534[[:space:]]" /proc/1/status' ||
  fail "the program's real gid is not 65534: $(docker exec "$p"pod-1 grep Gid /proc/1/status)"
# The check can fail: with CAP_SYS_PTRACE the same shell reads the environment.
containers+=("$p"pod-ptrace)
docker run -d --name "$p"pod-ptrace --network host --tmpfs /run/hello-user --cap-add SYS_PTRACE "${pod_env[@]}" "$image:1" >/dev/null
wait_exit_or_line "$p"pod-ptrace "checksum"
docker exec "$p"pod-ptrace cat /proc/1/environ | tr '\0' '\n' | grep '^API_PASSWORD=' >/dev/null ||
  fail "with CAP_SYS_PTRACE, docker exec does not see API_PASSWORD: the check above proves nothing"
docker rm -f "$p"pod-ptrace >/dev/null
step "non-dumpable: docker exec (no CAP_SYS_PTRACE) cannot read /proc/1/environ, mem, maps; grep -r of /proc finds no password"

# --- a flood of nonce requests over TLS, without a certificate (the CAS's old table of 10,000
# unexpired nonces was full after 10,000 of them): a runtime started after 10,100 still attests.
for _ in $(seq 20000); do printf 'url = "https://%s/v1/attestation/nonce"\noutput = "/dev/null"\n' "$CAS_ADDR"; done >"$work/flood.curl"
timeout 300 curl -sS --cacert "$CAS_CERT" --parallel --parallel-max 4 -K "$work/flood.curl" -w '%{http_code}\n' \
  >"$work/flood.codes" 2>"$logs/flood.err" &
flood=$!
for _ in $(seq 3000); do
  [ "$(grep -c . "$work/flood.codes")" -ge 10100 ] && break
  kill -0 "$flood" 2>/dev/null || break
  sleep 0.1
done
start "$p"pod-flood "$image:1"
wait_exit_or_line "$p"pod-flood "checksum"
docker logs "$p"pod-flood >"$logs/pod-flood.out" 2>&1
wait "$flood" || fail "the nonce flood did not finish: $(tail -3 "$logs/flood.err")"
served=$(grep -cx 200 "$work/flood.codes" || true)
[ "$served" = 20000 ] || fail "of 20,000 nonce requests, $served were answered 200: $(sort "$work/flood.codes" | uniq -c | tr '\n' ' ')"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-flood.out" ||
  fail "a runtime did not attest after 20,000 nonce requests: $(cat "$logs/pod-flood.out")"
docker rm -f "$p"pod-flood >/dev/null
step "20,000 nonce requests over TLS without a certificate, all answered; a runtime started amid them attests"

# --- integrity: the host's environment does not override the session
start "$p"pod-2 "$image:1" -e API_USER=incorrect_user -e API_PASSWORD=incorrect_pw
wait_exit_or_line "$p"pod-2 "checksum"
docker logs "$p"pod-2 >"$logs/pod-2.out" 2>&1
grep -q "Hello, 'myself' - thanks" "$logs/pod-2.out" || fail "API_USER from the host won: $(cat "$logs/pod-2.out")"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-2.out" || fail "API_PASSWORD from the host won"
step "integrity: -e API_USER=incorrect_user -e API_PASSWORD=incorrect_pw changes nothing"

# --- the right image, hence the right measurement, without the token or with a wrong one gets
# nothing: the measurement is self-reported, the token is what a caller must hold
for variant in no-token wrong-token; do
  containers+=("$p$variant")
  extra=()
  [ "$variant" = wrong-token ] && extra=(-e "SCONE_SERVICE_ACCESS_TOKEN=${token%?}0")
  [ "$variant" = wrong-token ] && [ "${token%?}0" = "$token" ] && extra=(-e "SCONE_SERVICE_ACCESS_TOKEN=${token%?}1")
  docker run -d --name "$p$variant" --network host --tmpfs /run/hello-user -e "SCONE_CONFIG_ID=$session/hello-user" \
    -e "SCONE_CAS_ADDR=$CAS_ADDR" -e "SCONE_CAS_KEY=$CAS_KEY" "${extra[@]}" "$image:1" >/dev/null
  wait_exit_or_line "$p$variant" "checksum"
  for _ in $(seq 600); do [ "$(docker inspect -f '{{.State.Running}}' "$p$variant")" = false ] && break; sleep 0.1; done
  docker logs "$p$variant" >"$logs/$variant.out" 2>&1
  [ "$(docker inspect -f '{{.State.ExitCode}}' "$p$variant")" != 0 ] || fail "$variant: the runtime ran the program"
  grep -q "service access token is missing or wrong" "$logs/$variant.out" || fail "$variant: $(cat "$logs/$variant.out")"
  if grep -q "checksum\|Hello" "$logs/$variant.out"; then fail "$variant: the program ran: $(cat "$logs/$variant.out")"; fi
done
step "without the service access token, or with a wrong one, the right image gets nothing"

expect_refused() { # expect_refused NAME: the container ran nothing and said why
  local name=$1
  wait_exit_or_line "$name" "Attestation failed"
  for _ in $(seq 600); do
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = false ] && break
    sleep 0.1
  done
  docker logs "$name" >"$logs/$name.out" 2>&1
  [ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" != 0 ] || fail "$name exited 0"
  grep -q "Attestation failed" "$logs/$name.out" || fail "$name: no 'Attestation failed': $(cat "$logs/$name.out")"
  grep -q "Unexpected enclave measurement (MRENCLAVE, [0-9a-f]\{64\}) - not a value the session admits" "$logs/$name.out" ||
    fail "$name: no MRENCLAVE message: $(cat "$logs/$name.out")"
  if grep -q "$2" "$logs/$name.out"; then fail "$name: the refusal shows the admitted measurement $2"; fi
  if grep -q "thanks for passing" "$logs/$name.out"; then fail "$name ran the program"; fi
}
containers+=("$p"edited)
docker create --name "$p"edited --network host --tmpfs /run/hello-user "${pod_env[@]}" "$image:1" >/dev/null
printf 'print("changed inside the container")\n' >"$work/evil.py"
cat greet.py "$work/evil.py" >"$work/greet.py"
docker cp "$work/greet.py" "$p"edited:/app/greet.py
docker start "$p"edited >/dev/null
expect_refused "$p"edited "$built"
step "integrity: a program changed inside a container fails attestation"

cp greet.py "$work/greet.orig.py"
cat "$work/evil.py" >>greet.py
run service-evil apply -f service.yaml --config "$work/config.yaml" --runtime sim
start "$p"rebuilt "$image:1"
expect_refused "$p"rebuilt "$built"
step "integrity: a changed program pushed under the same tag, mesh not applied, fails"

# --- consistency: version 2 with the mesh applied runs; version 1 pushed as tag 2 fails
export APP_TAG=2
run service-2 apply -f service.yaml --config "$work/config.yaml" --runtime sim
docker tag "$image:2" "$image:version-2"
run mesh-2 apply -f mesh.yaml --mode debug
second=$(json_field "$logs/service-2.json" 'd["measurement"]["value"]')
start "$p"pod-v2 "$image:2"
wait_exit_or_line "$p"pod-v2 "checksum"
docker logs "$p"pod-v2 >"$logs/pod-v2.out" 2>&1
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-v2.out" || fail "version 2 did not run: $(cat "$logs/pod-v2.out")"
docker tag "$image:version-1" "$image:2"
docker push -q "$image:2" >/dev/null
start "$p"v1-as-v2 "$image:2"
expect_refused "$p"v1-as-v2 "$second"
step "consistency: version 2 runs; the version-1 image pushed as tag 2 fails"

# --- the pin: a wrong key stops the runtime before it sends anything
before=$(grep -c "/v1/attestation" "$work/cas.log" || true)
containers+=("$p"wrong-key)
docker run --name "$p"wrong-key --network host --tmpfs /run/hello-user -e "SCONE_CONFIG_ID=$session/hello-user" \
  -e "SCONE_CAS_ADDR=$CAS_ADDR" -e "SCONE_CAS_KEY=3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh" \
  "$image:2" >"$logs/wrong-key.out" 2>&1 && fail "the runtime ran with a wrong CAS key"
grep -q "nothing was sent to it" "$logs/wrong-key.out" || fail "no pin refusal: $(cat "$logs/wrong-key.out")"
after=$(grep -c "/v1/attestation" "$work/cas.log" || true)
[ "$before" = "$after" ] || fail "the runtime sent a request despite the wrong key"
step "a wrong SCONE_CAS_KEY: refused before a request was sent"

# --- bad input to the attestation endpoint over HTTPS: 4xx, and the CAS stays up
post() { curl -sS --cacert "$CAS_CERT" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
head -c 3000000 /dev/zero | tr '\0' '{' >"$work/huge.json"
for body in 'garbage' '{}' '{"config_id":"../../etc/passwd"}' "@$work/huge.json" \
            '{"config_id":"x/y","measurement":"'"$built"'","nonce":"'"$built"'","public_key":"'"$built"'","report_data":"'"$built"'"}'; do
  code=$(post --data-binary "$body" "https://$CAS_ADDR/v1/attestation")
  [[ $code =~ ^4[0-9][0-9]$ ]] || fail "attestation body ${body:0:30}: HTTP $code, not 4xx"
done
for path in "/v1/attestation/../sessions" "/v1/attestation/nonce/x" "/v1/attestation%2f..%2fsessions"; do
  code=$(curl -sS --cacert "$CAS_CERT" -o /dev/null -w '%{http_code}' --path-as-is "https://$CAS_ADDR$path")
  [[ $code =~ ^4[0-9][0-9]$ ]] || fail "GET $path: HTTP $code, not 4xx"
done
start "$p"pod-after-garbage "$image:version-2"
wait_exit_or_line "$p"pod-after-garbage "checksum"
docker logs "$p"pod-after-garbage >"$logs/pod-after-garbage.out" 2>&1 || true
grep -q "thanks for passing" "$logs/pod-after-garbage.out" ||
  fail "the CAS stopped serving after bad input: $(tail -n 5 "$logs/pod-after-garbage.out"); CAS log: $(tail -n 5 "$work/cas.log")"
step "garbage, a 3 MB body, unknown ids and path tricks get 4xx; the CAS keeps serving"

# --- the runtime needs nothing from the image: FROM scratch, with a static busybox as the program
if ! { [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep "statically linked" >/dev/null; }; then
  [ "${CI:-}" = true ] && fail "no static /bin/busybox (Debian's busybox-static) for the FROM scratch check"
  step "SKIPPED the FROM scratch check: no static /bin/busybox (install busybox-static)"
else
  mkdir -p "$work/scratch/app"
  echo data >"$work/scratch/app/data"
  cp /bin/busybox "$work/scratch/busybox"
  cp "$(dirname "$sconectl")/runtime/sconectl-runtime-sim" "$work/scratch/runtime" 2>/dev/null ||
    cp "$(dirname "$sconectl")/sconectl-runtime-sim" "$work/scratch/runtime"
  cat >"$work/scratch/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
COPY runtime /opt/sconectl/bin/sconectl-runtime-sim
COPY app /app
ENTRYPOINT ["/opt/sconectl/bin/sconectl-runtime-sim", "--program", "/bin/busybox", "--pwd", "/app", "--"]
DOCKERFILE
  docker build -q -t "sconectl-scratch-$$" "$work/scratch" >/dev/null
  containers+=("$p"scratch)
  docker run --name "$p"scratch -e SCONE_HASH=1 "sconectl-scratch-$$" >"$logs/scratch.out" 2>"$logs/scratch.err" ||
    fail "the runtime does not start in a scratch image: $(cat "$logs/scratch.err")"
  grep -qx "[0-9a-f]\{64\}" "$logs/scratch.out" || fail "no measurement from the scratch image"
  docker rmi -f "sconectl-scratch-$$" >/dev/null
  step "the runtime starts and measures in a FROM scratch image"
fi

# --- the password: in the CAS store and the attested program only
for c in "${containers[@]}"; do docker logs "$c" >>"$logs/all-containers.log" 2>&1 || true; done
docker image save "$image:1" "$image:2" -o "$work/images.tar"
docker image inspect "$image:1" "$image:2" >"$work/inspect.json"
docker inspect "$p"pod-1 "$p"pod-2 >"$work/container-inspect.json"
python3 - "$password" "$cas_data" "$work/app/target" "$work/images.tar" "$work/inspect.json" \
  "$work/container-inspect.json" "$logs" "$work/cas.log" <<'PY' || fail "the generated password leaked"
import os, sys
needle = sys.argv[1].encode()
def files(path):
    if os.path.isfile(path):
        yield path
    for base, _, names in os.walk(path):
        for name in names:
            yield os.path.join(base, name)
def holding(paths):
    return [p for p in paths if needle in open(p, "rb").read()]
assert holding(files(sys.argv[2])), "the control failed: the password is not even in the CAS store"
leaks = holding(p for arg in sys.argv[3:] for p in files(arg))
assert not leaks, f"found in {leaks}"
PY
step "the password is in none of target/, the images, docker inspect, the chart, the logs"
if grep -rlaF "$token" target/helm "$logs" "$work/cas.log" "$work/images.tar"; then
  fail "the service access token is in the chart, the images or a log"
fi
step "the service access token is in none of the chart, the images, the output, the CAS's log"
echo "$test_name: passed"
