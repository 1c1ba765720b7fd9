#!/usr/bin/env bash
# Hand-written sessions, as SCONE's tutorials write and upload them, on the local CAS over real
# mutual TLS, run by the simulation runtime (no SGX: the measurement is self-reported):
#  - `session check` prints the hash that `session create` then gets; `export X=$(session create)`
#    works (stdout is the hash only); `session update` with and without an explicit predecessor;
#    a stale predecessor is a conflict naming both hashes; `session get` reads back what was sent;
#  - a namespace, a nested namespace, a secret imported from `../pki`, host arguments (`@@1`),
#    host environment passthrough (`\@\@NAME`, whose value is ignored), an injection file with
#    its permission, and a session with `attestation: mode: none` and no `pwd`, each run by the
#    runtime in a container;
#  - the CAS is found without --cas from target/cas/sessions.json;
#  - sessions with constructs the local CAS does not honour are refused, each by name.
#   tests/integration/sessions_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=sessions_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
containers=()
cleanup() {
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  [ -z "${image:-}" ] || docker rmi -f "$image" >/dev/null 2>&1 || true
  stop_cas -KILL
  rm -rf "$work"
}
trap cleanup EXIT

start_infra
start_cas
step "Docker Engine, registry $REGISTRY, local CAS $CAS_ADDR"
export SCONECTL_CAS_CONFIG="$work/client" CAS_ADDR CAS_KEY
export APP_IMAGE_REPO="$REGISTRY/sconectl-sessions-$$" APP_NAMESPACE="sessions-$$"
export APP_TOLERATE="outdated-tcb, software-hardening-needed, simulation" API_USER=someone
image="$APP_IMAGE_REPO/hello-user:1"
printf 'base_images:\n  python: %s\n' "$base_image" >"$work/config.yaml"
cp -r "$root/examples/hello-world" "$work/app"
cd "$work/app"
logs="$work/logs"
mkdir -p "$logs"
run service apply -f service.yaml --config "$work/config.yaml" --runtime sim
measurement=$(json_field "$logs/service.json" 'd["measurement"]["value"]')
# The mesh upload records the CAS (with its pin) in target/cas/sessions.json: the session
# commands below find it there, without --cas.
run mesh apply -f mesh.yaml --mode debug
step "image $image (measurement $measurement); mesh applied to $CAS_ADDR"

ns="hand-$$"
sessions="$work/sessions"
mkdir -p "$sessions"
cat >"$sessions/namespace.yaml" <<'EOF'
# a namespace whose children only its creator may create
version: 0.3.10
name: $NS
access_policy:
  create_sessions: [CREATOR]
EOF
cat >"$sessions/team.yaml" <<'EOF'
version: 0.3.10
name: $NS/team
predecessor: ~
EOF
cat >"$sessions/pki.yaml" <<'EOF'
version: 0.3.10
name: ${NS}/team/pki
secrets:
  - name: shared_password
    kind: ascii
    size: 18
    export:
      - namespace: $NS/team
EOF
# The program is the one the image measured (python3 in /app); what it runs is the session's.
cat >"$sessions/app.yaml" <<'EOF'
version: 0.3.10
name: $NS/team/app
services:
  - name: app
    image_name: app
    command:
      - python3
      - -c
      - |
        import os, sys
        print("args", sys.argv[1:])
        print("password", len(os.environ["PASSWORD"]))
        print("host", os.environ.get("FROM_HOST"))
        print("user", os.environ["APP_USER"])
        print("file", oct(os.stat("/run/hello-user/app.conf").st_mode & 0o777), open("/run/hello-user/app.conf").read().strip())
      - "@@1"
    pwd: /app
    environment:
      PASSWORD: $$SCONE::password$$
      APP_USER: $APP_USER
      \@\@FROM_HOST:
      \@\@LANG: ""
    attestation:
      mrenclave: [$MEASUREMENT]
images:
  - name: app
    injection_files:
      - path: /run/hello-user/app.conf
        content: user=$APP_USER
        permission: 0o640
secrets:
  - name: password
    import:
      session: ../pki
      secret: shared_password
security:
  service_access_token: $APP_TOKEN
  attestation:
    tolerate: [debug-mode, outdated-tcb, simulation]
EOF
cat >"$sessions/open.yaml" <<'EOF'
version: 0.3.10
name: $NS/team/open
services:
  - name: app
    command: python3 -c "import os; print('configured without attestation in', os.getcwd())"
security:
  attestation:
    mode: none
EOF
APP_TOKEN=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export NS=$ns MEASUREMENT=$measurement APP_TOKEN

# --- check, create, read back
expected=$("$sconectl" session check -f "$sessions/namespace.yaml" 2>"$logs/check.err")
NS_HASH=$("$sconectl" session create -f "$sessions/namespace.yaml" 2>"$logs/create.err")
[ "$NS_HASH" = "$expected" ] || fail "session check said $expected, create got $NS_HASH"
grep -q "Using the CAS at $CAS_ADDR recorded in target/cas/sessions.json" "$logs/create.err" ||
  fail "the CAS was not found from target/cas/sessions.json: $(cat "$logs/create.err")"
[[ "$NS_HASH" =~ ^[0-9a-f]{64}$ ]] || fail "stdout of session create is not the hash only: $NS_HASH"
"$sconectl" session get "$ns" >"$logs/ns.yaml" 2>/dev/null
grep -q "create_sessions" "$logs/ns.yaml" || fail "session get does not show the access policy"
for file in team pki app open; do
  "$sconectl" session create -f "$sessions/$file.yaml" -e APP_USER=first >"$logs/$file.hash" 2>"$logs/$file.err" ||
    fail "session create $file.yaml: $(cat "$logs/$file.err")"
done
step "namespace $ns ($NS_HASH), nested $ns/team, pki, app and open created; check agreed"

# --- the runtime runs the hand-written session: import from ../pki, @@1, \@\@NAME, permission
password=$(sqlite3 "$cas_data/cas.db" "select value from secrets where session = '$ns/team/pki' and name = 'shared_password'")
[ ${#password} = 18 ] || fail "the CAS holds no 18-character shared_password"
run_session() { # run_session NAME CONFIG_ID ARGS...: runs the image as a pod would, waits for it
  local name=$1 config_id=$2; shift 2
  containers+=("$name-$$")  # another run of this test on the machine names its own
  docker run --name "$name-$$" --network host --tmpfs /run/hello-user -e FROM_HOST=from-the-host \
    -e "SCONE_CONFIG_ID=$config_id" -e "SCONE_CAS_ADDR=$CAS_ADDR" -e "SCONE_CAS_KEY=$CAS_KEY" \
    -e "SCONE_SERVICE_ACCESS_TOKEN=$APP_TOKEN" "$image" "$@" >"$logs/$name.out" 2>"$logs/$name.err" || true
}
run_session app-1 "$ns/team/app/app" first-argument
cat >"$work/expected" <<EOF
args ['first-argument']
password 18
host from-the-host
user first
file 0o640 user=first
EOF
diff "$work/expected" "$logs/app-1.out" >&2 || fail "the program did not get its configuration: $(cat "$logs/app-1.err")"
step "the runtime ran $ns/team/app: password imported from ../pki, @@1, \\@\\@FROM_HOST, file mode 0640"

run_session open-1 "$ns/team/open/app"
grep -qx "configured without attestation in /app" "$logs/open-1.out" ||
  fail "mode none without pwd did not run in the image's working directory: $(cat "$logs/open-1.out" "$logs/open-1.err")"
grep -q "attestation mode none" "$logs/open-1.err" || fail "the runtime does not say it ran without attestation"
step "a session with attestation mode none and no pwd runs in the image's working directory, and the runtime says so"

# A simulated session without security.service_access_token: the measurement is self-reported,
# so the right one is not enough; the refusal names the construct and the CAS's flag.
sed -e '/service_access_token/d' -e 's|^name: \$NS/team/app$|name: $NS/team/bare|' "$sessions/app.yaml" >"$sessions/bare.yaml"
"$sconectl" session create -f "$sessions/bare.yaml" -e APP_USER=first >/dev/null 2>"$logs/bare.err" ||
  fail "session create bare.yaml: $(cat "$logs/bare.err")"
run_session bare-1 "$ns/team/bare/app" first-argument
[ ! -s "$logs/bare-1.out" ] || fail "the program of a session without a token ran: $(cat "$logs/bare-1.out")"
grep -q "sets no security.service_access_token" "$logs/bare-1.err" || fail "no refusal naming the token: $(cat "$logs/bare-1.err")"
grep -q -- "--allow-simulation-without-token" "$logs/bare-1.err" || fail "the refusal does not name the flag: $(cat "$logs/bare-1.err")"
step "a simulated session without a service access token gets nothing; the refusal names the construct and the flag"

# --- update: without a predecessor (the current version), with one, and a stale one
app_1=$(cat "$logs/app.hash")
app_2=$("$sconectl" session update -f "$sessions/app.yaml" -e APP_USER=second 2>"$logs/update.err")
[ "$app_2" != "$app_1" ] || fail "the update did not change the hash"
run_session app-2 "$ns/team/app/app" again
grep -qx "user second" "$logs/app-2.out" || fail "the update did not reach the program: $(cat "$logs/app-2.out" "$logs/app-2.err")"
{ cat "$sessions/app.yaml"; echo 'predecessor: $PREDECESSOR'; } >"$sessions/app-explicit.yaml"
app_3=$(PREDECESSOR=$app_2 "$sconectl" session update -f "$sessions/app-explicit.yaml" -e APP_USER=third 2>/dev/null)
set +e
PREDECESSOR=$app_2 "$sconectl" session update -f "$sessions/app-explicit.yaml" -e APP_USER=fourth >"$logs/stale.out" 2>"$logs/stale.err"
code=$?
set -e
[ "$code" = 1 ] || fail "a stale predecessor: exit $code, not 1"
grep -q "$app_2" "$logs/stale.err" && grep -q "$app_3" "$logs/stale.err" ||
  fail "the conflict does not name both hashes: $(cat "$logs/stale.err")"
[ ! -s "$logs/stale.out" ] || fail "a refused update printed a hash"
"$sconectl" session history "$ns/team/app" >"$logs/history.out" 2>/dev/null
[ "$(wc -l <"$logs/history.out")" = 3 ] || fail "history does not list three versions: $(cat "$logs/history.out")"
"$sconectl" session get "$ns/team/app" | grep 'APP_USER: "third"' >/dev/null || fail "session get does not show the third version"
step "updates: current predecessor, explicit predecessor; stale one refused (exit 1) naming $app_2 and $app_3"

# --- a shared access policy, as Scontain's tutorials write it: a config-fragment secret of one
# session, imported by another as `access_policy: $$SCONE::access_policy$$`; a change of the
# source is enforced at the next request.
cat >"$sessions/policy.yaml" <<'EOF'
version: 0.3.10
name: $NS/team/policy
secrets:
  - name: access_policy
    kind: config-fragment
    export:
      - namespace: $NS/team
    value:
      read: [$READERS]
      update: [CREATOR]
EOF
cat >"$sessions/shared.yaml" <<'EOF'
version: 0.3.10
name: $NS/team/shared
access_policy: $$SCONE::access_policy$$
secrets:
  - name: access_policy
    import:
      session: ../policy
      secret: access_policy
EOF
"$sconectl" session check -f "$sessions/shared.yaml" >/dev/null 2>"$logs/shared-check.err" ||
  fail "session check refused the shared policy: $(cat "$logs/shared-check.err")"
"$sconectl" session create -f "$sessions/policy.yaml" -e READERS=CREATOR >/dev/null 2>"$logs/policy.err" ||
  fail "session create policy.yaml: $(cat "$logs/policy.err")"
"$sconectl" session create -f "$sessions/shared.yaml" >/dev/null 2>"$logs/shared.err" ||
  fail "session create shared.yaml: $(cat "$logs/shared.err")"
"$sconectl" session get "$ns/team/shared" | grep -F 'access_policy: "$$SCONE::access_policy$$"' >/dev/null ||
  fail "session get does not show the access policy as written"
"$sconectl" session update -f "$sessions/policy.yaml" -e READERS=NONE >/dev/null 2>"$logs/policy-update.err" ||
  fail "session update policy.yaml: $(cat "$logs/policy-update.err")"
if "$sconectl" session get "$ns/team/shared" >/dev/null 2>"$logs/shared-get.err"; then
  fail "the shared policy now says read: [NONE], yet the session was read"
fi
grep -q 403 "$logs/shared-get.err" || fail "the read was not refused with 403: $(cat "$logs/shared-get.err")"
step "access_policy: \$\$SCONE::access_policy\$\$ imported from ../policy: enforced, and a changed source counts at once"

# --- constructs this CAS does not honour: refused by name, nothing stored
refused() { # refused NAME EXPECTED YAML: session create fails with EXPECTED in its message
  printf 'version: 0.3.10\nname: %s/%s\n%s\n' "$ns" "$1" "$3" >"$sessions/$1.yaml"
  if "$sconectl" session create -f "$sessions/$1.yaml" >"$logs/$1.out" 2>"$logs/$1.err"; then
    fail "session $1 was accepted"
  fi
  grep -qF "$2" "$logs/$1.err" || fail "session $1: '$2' not in: $(cat "$logs/$1.err")"
  if "$sconectl" session get "$ns/$1" >/dev/null 2>&1; then fail "the refused session $1 was stored"; fi
}
refused volumes "volumes: not supported by this CAS" 'volumes:
  - name: data'
refused fspf "services[0].fspf_path: not supported by this CAS" "services:
  - name: a
    command: [python3]
    pwd: /app
    fspf_path: /fspf.pb
    attestation: {mrenclave: [$measurement]}"
refused image-volumes "images[0].volumes: not supported" 'images:
  - name: i
    volumes: [{name: v, path: /v}]'
refused bare-injection "images[0].injection_files[0]: not supported by this CAS" 'images:
  - name: i
    injection_files: [/etc/app.conf]'
refused singleton "security.singleton_enclaves: not supported" 'security:
  singleton_enclaves: true'
refused otp "security.attestation.one_time_password_shared_secret: not supported" 'security:
  attestation:
    one_time_password_shared_secret: JBSWY3DPEHPK3PXP'
refused remote-import "secrets[0].import.cas_url: not supported" 'secrets:
  - name: s
    import: {cas_url: "cas.example:8081", session: x, secret: y}'
refused governance "access_policy.update[0]: 'require-all:' is not supported" 'access_policy:
  update: ["require-all:"]'
refused typo "servics: not a key of session language" 'servics: []'
step "volumes, fspf, image volumes, bare injection paths, singleton enclaves, OTP, remote imports, governance rules and unknown keys are refused by name"
echo "$test_name: passed"
