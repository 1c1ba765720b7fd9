#!/usr/bin/env bash
# `apply -f mesh.yaml` against the local CAS (`sconectl cas serve`) over real mutual TLS on
# loopback: first upload, no-op re-apply, update with a predecessor chain, refused stale and
# replayed uploads, refused strangers, a refused wrong pin, durability across restarts and
# SIGKILL, concurrent updates, malformed requests, YAML alias amplification (an upload, and a mesh
# given to `apply --dry-run`), and a scan for generated secret values.
#   tests/integration/cas_test.sh SCONECTL_BINARY RECORD_SERVICE_BINARY
# Exit 125 (skipped) when curl or sqlite3 is missing, except in CI.
set -euo pipefail
sconectl=$(realpath "$1")
record_service=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=cas_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
trap 'stop_cas -KILL; rm -rf "$work"' EXIT

command -v curl >/dev/null || skip_or_fail "curl is not installed"
command -v sqlite3 >/dev/null || skip_or_fail "sqlite3 is not installed"

# The services are recorded by record_service, not built: keep a Docker Engine that happens to
# run (with images of the same names) out of it.
export SCONECTL_DOCKER=/nonexistent
cas_data="$work/cas-data"
data=$cas_data
start_cas
first_key=$CAS_KEY
step "local CAS at $CAS_ADDR, key $CAS_KEY"
[ "${#CAS_KEY}" -eq 50 ] || fail "CAS_KEY is not a 50-character key hash: $CAS_KEY"

export SCONECTL_CAS_CONFIG="$work/client"
stranger_config="$work/stranger"

# --- trust: a wrong pin is refused with both hashes; the right one is recorded.
wrong_key=$("$sconectl" self show-key-hash --cas-config "$stranger_config")
if "$sconectl" cas attest "$CAS_ADDR" --cas-key "$wrong_key" >"$work/attest.out" 2>"$work/attest.err"; then
  fail "cas attest accepted a wrong --cas-key"
fi
grep -q "$CAS_KEY" "$work/attest.err" && grep -q "$wrong_key" "$work/attest.err" ||
  fail "the refused attest does not name both hashes: $(cat "$work/attest.err")"
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" >"$work/attest.out" || fail "cas attest with the right key"
[ "$(stat -c %a "$SCONECTL_CAS_CONFIG/config.json")" = 600 ] || fail "config.json is not 0600"
client_key=$("$sconectl" self show-key-hash)

# --- the hello-world mesh, as a user has it after `apply -f service.yaml`.
app="$work/hello"
mkdir -p "$app"
cp "$root/examples/hello-world/mesh.yaml" "$root/examples/hello-world/service.yaml" "$app/"
"$record_service" "$app/service.yaml" "$app/target" || fail "record_service"
export CAS_ADDR CAS_KEY
apply() { # apply NAME [ENV...]: apply -f mesh.yaml in $app with JSON output in $work/NAME.json
  local name=$1; shift
  (cd "$app" && env "$@" "$sconectl" -vv --format json apply -f mesh.yaml >"$work/$name.json" 2>"$work/$name.err")
}
actions() { python3 -c 'import json,sys; print(" ".join(s["action"] for s in json.load(open(sys.argv[1]))["uploaded"]))' "$work/$1.json"; }

apply first || fail "first apply: $(cat "$work/first.err")"
[ "$(actions first)" = "created created" ] || fail "first apply should create 2 sessions: $(actions first)"
step "first apply created the namespace and the service session"

apply second || fail "second apply: $(cat "$work/second.err")"
[ "$(actions second)" = "unchanged unchanged" ] || fail "re-apply uploaded something: $(actions second)"
grep -q "1 connection(s) to the CAS for this apply" "$work/first.err" ||
  fail "the first apply did not use one connection: $(grep 'connection(s)' "$work/first.err")"
versions_before=$(sqlite3 "$data/cas.db" "select count(*) from versions")

apply third API_USER=somebody-else || fail "apply with a changed API_USER: $(cat "$work/third.err")"
[ "$(actions third)" = "unchanged updated" ] || fail "a changed API_USER should update one session: $(actions third)"
[ "$(sqlite3 "$data/cas.db" "select count(*) from versions")" -eq $((versions_before + 1)) ] || fail "no new version stored"
session=hello-world-demo/hello-user
"$sconectl" --format json session history "$session" >"$work/history.json" || fail "session history"
python3 - "$work/history.json" "$app/target/cas/sessions.json" "$session" <<'PY' || fail "predecessor chain"
import json, sys
history = json.load(open(sys.argv[1]))["versions"]
record = json.load(open(sys.argv[2]))["sessions"][sys.argv[3]]
assert len(history) == 2, history
assert history[0]["predecessor"] == history[1]["hash"], history
assert history[1]["predecessor"] is None
assert record["chain"] == [v["hash"] for v in history], (record, history)
PY
"$sconectl" session get "$session" >"$work/current.yaml" || fail "session get"
grep -q 'API_USER: "somebody-else"' "$work/current.yaml" || fail "API_USER is not in the stored policy"
step "update stored with a predecessor chain of 2, recorded in target/cas/sessions.json"

# --- curl as this client: identity from config.json, CAS checked against its certificate.
python3 - "$SCONECTL_CAS_CONFIG/config.json" "$work/client.pem" <<'PY'
import json, os, sys
open(sys.argv[2], "w").write(json.load(open(sys.argv[1]))["identity"]); os.chmod(sys.argv[2], 0o600)
PY
url="https://$CAS_ADDR"
as_client() { curl -sS --cacert "$CAS_CERT" --cert "$work/client.pem" -o "$work/body" -w '%{http_code}' "$@"; }
anonymous() { curl -sS --cacert "$CAS_CERT" -o "$work/body" -w '%{http_code}' "$@"; }

# A stale predecessor, and the replay of the first version with its own (old) predecessor.
old_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["versions"][1]["hash"])' "$work/history.json")
"$sconectl" --format json session get "$session" --hash "$old_hash" |
  python3 -c 'import json,sys,re; s=json.load(sys.stdin)["session"]; print(re.sub(r"(?m)^creator:.*\n", "", s), end="")' >"$work/old.yaml"
# A first version shows `predecessor: ~`, as SCONE's CAS shows it.
grep -qx 'predecessor: ~' "$work/old.yaml" || fail "the first version does not show predecessor: ~: $(cat "$work/old.yaml")"
grep -q 'API_USER: "myself"' "$work/old.yaml" || fail "the old version does not hold the old API_USER"
code=$(as_client -H 'Content-Type: application/yaml' --data-binary "@$work/old.yaml" "$url/v1/sessions")
[ "$code" = 409 ] || fail "replaying the first version (no predecessor) gave $code, not 409"
{ grep -v '^predecessor:' "$work/old.yaml"; echo "predecessor: \"$old_hash\""; } >"$work/stale.yaml"
code=$(as_client -H 'Content-Type: application/yaml' --data-binary "@$work/stale.yaml" "$url/v1/sessions")
[ "$code" = 409 ] || fail "an update from a stale predecessor gave $code, not 409"
grep -q "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["versions"][0]["hash"])' "$work/history.json")" "$work/body" ||
  fail "the 409 does not name the current hash: $(cat "$work/body")"
"$sconectl" session get "$session" | grep 'API_USER: "somebody-else"' >/dev/null || fail "the refused replay changed the session"
step "stale and replayed uploads refused with 409"

# --- Scontain's exercise, with only the address changed: the client certificate taken from
# ~/.cas/config.json (`.identity`) reads a session by hash; a public value is read without one;
# HEAD (`curl -I`) on a value that is not public is 405, with and without the certificate.
home="$work/home"
values_session="exercise-$$/private_public_values"
printf 'name: exercise-%s\nversion: "0.3.10"\n' "$$" >"$work/exercise-ns.yaml"
printf '%s\n' "name: $values_session" 'version: "0.3"' '' 'secrets:' \
  '  - name: public_value' '    kind: ascii' '    value: "42"' '    export_public: true' \
  '  - name: private_value' '    kind: ascii' '    value: "007"' >"$work/values.yaml"
as_home() { env -u SCONECTL_CAS_CONFIG HOME="$home" "$sconectl" "$@"; }
as_home cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" --default >/dev/null 2>"$work/home-attest.err" ||
  fail "cas attest with ~/.cas/config.json: $(cat "$work/home-attest.err")"
[ -s "$home/.cas/config.json" ] || fail "no ~/.cas/config.json was written"
as_home session create -t "$work/none" -f "$work/exercise-ns.yaml" >/dev/null 2>"$work/home-create.err" ||
  fail "session create of the namespace: $(cat "$work/home-create.err")"
values_hash=$(as_home session create -t "$work/none" -f "$work/values.yaml" 2>"$work/home-create.err") ||
  fail "session create: $(cat "$work/home-create.err")"
# As the exercise extracts it: printf "\n$(cat $HOME/.cas/config.json | jq .identity | tr -d '\"')"
identity=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["identity"]))' "$home/.cas/config.json" | tr -d '"')
# shellcheck disable=SC2059 # the exercise lets printf turn the JSON's \n into newlines
printf "\n$identity" >"$work/exercise-client.pem"
code=$(curl -sS --cacert "$CAS_CERT" --cert "$work/exercise-client.pem" -o "$work/body" -w '%{http_code}' \
  "$url/v1/sessions/$values_session?hash=$values_hash")
[ "$code" = 200 ] || fail "GET /v1/sessions/NAME?hash=H with the identity of ~/.cas/config.json gave $code: $(cat "$work/body")"
[ "$(json_field "$work/body" 'd["hash"]')" = "$values_hash" ] || fail "the read by hash returned another version: $(cat "$work/body")"
cas_host=${CAS_ADDR%:*}
cas_port=${CAS_ADDR##*:}
curl --cacert "$CAS_CERT" --connect-to "cas:8081:$cas_host:$cas_port" \
  "https://cas:8081/v1/values/session=$values_session,secret=public_value" 2>/dev/null >"$work/values.json" ||
  fail "Failed to retrieve public value"
[ "$(json_field "$work/values.json" 'd["value"]')" = 42 ] || fail "the public value is not 42: $(cat "$work/values.json")"
for cert in "" "--cert $work/exercise-client.pem"; do
  # shellcheck disable=SC2086 # $cert is empty or two words, as the exercise writes it
  br=$(curl -I --cacert "$CAS_CERT" $cert --connect-to "cas:8081:$cas_host:$cas_port" \
    "https://cas:8081/v1/values/session=$values_session,secret=private_value" 2>/dev/null | grep "405" | wc -l | xargs)
  [ "$br" = 1 ] || fail "curl -I ${cert:+with the client certificate }on a private value: expected one 405 line, got $br"
done
step "Scontain's exercise: the ~/.cas/config.json identity reads by hash; public value 42; curl -I on a private value is 405 with and without a certificate"

# --- strangers: no certificate, and a certificate that is not the creator's.
[ "$(anonymous "$url/v1/sessions/$session")" = 401 ] || fail "a client without a certificate could read"
[ "$(anonymous "$url/v1/version")" = 200 ] || fail "/v1/version should not need a certificate"
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" --cas-config "$stranger_config" >/dev/null
if "$sconectl" session get "$session" --cas-config "$stranger_config" >/dev/null 2>"$work/stranger.err"; then
  fail "a client that is not the creator could read the session"
fi
grep -q 403 "$work/stranger.err" || fail "the stranger's read was not refused with 403: $(cat "$work/stranger.err")"
if (cd "$app" && SCONECTL_CAS_CONFIG="$stranger_config" API_USER=mallory "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/stranger-apply.err"); then
  fail "a client that is not the creator could update the session"
fi
grep -q 403 "$work/stranger-apply.err" || fail "the stranger's update was not refused with 403: $(cat "$work/stranger-apply.err")"
step "no certificate: 401; not the creator: 403 on read and on update"

# --- a wrong pin in the mesh: the client refuses to talk, and says which key it found.
if (cd "$app" && CAS_KEY="$wrong_key" API_USER=pinned "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/pin.err"); then
  fail "apply talked to a CAS that does not have the pinned key"
fi
grep -q "refusing" "$work/pin.err" && grep -q "$first_key" "$work/pin.err" || fail "wrong pin message: $(cat "$work/pin.err")"
"$sconectl" session get "$session" | grep 'API_USER: "somebody-else"' >/dev/null || fail "the wrongly pinned apply changed the session"
step "a wrong cas_key pin is refused before anything is sent"

# --- malformed requests: 4xx, never a crash.
post() { as_client -H "Content-Type: $1" --data-binary "@$2" "$url/v1/sessions"; }
printf 'name: [unclosed\n' >"$work/broken.yaml"
printf -- '- a\n- list\n' >"$work/list.yaml"
printf 'name: "../escape"\nversion: "0.3.10"\n' >"$work/dots.yaml"
head -c 3000000 /dev/zero | tr '\0' 'a' >"$work/huge.yaml"
[ "$(post application/yaml "$work/broken.yaml")" = 400 ] || fail "broken YAML not 400"
[ "$(post application/yaml "$work/list.yaml")" = 400 ] || fail "a list body not 400"
[ "$(post application/yaml "$work/dots.yaml")" = 400 ] || fail "a '..' name not 400"
[ "$(post application/json "$work/current.yaml")" = 415 ] || fail "a wrong content type not 415"
[ "$(post application/yaml "$work/huge.yaml")" = 413 ] || fail "a 3 MB body not 413"
for path in "/v1/sessions/../../etc/passwd" "/v1/sessions/%2e%2e/%2e%2e/etc/passwd" "/v1/sessions/a//b" "/v1/sessions/hello-world-demo%2Fhello-user%00"; do
  code=$(as_client --path-as-is "$url$path")
  case $code in 4??) ;; *) fail "GET $path gave $code, not 4xx" ;; esac
done
[ "$(anonymous "$url/v1/version")" = 200 ] || fail "the CAS stopped answering after malformed requests"
kill -0 "$server_pid" || fail "the CAS died"
step "malformed requests answered with 4xx; the CAS stays up"

# --- YAML aliases that would expand 100 KB into 200 MB: refused quickly, the CAS stays small and up.
python3 - "$work/amplified.yaml" <<'PY'
import sys
lines = ['name: "hello-world-demo/amplified"', 'version: "0.3.10"', 'services:', '  - name: app',
         '    command: /bin/app', '    pwd: /', '    mrenclaves: ["' + '1' * 64 + '"]', '    environment:',
         '      E0: &big "' + 'x' * 100_000 + '"']
lines += [f'      E{i}: *big' for i in range(1, 2000)]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
started=$(date +%s%N)
code=$(as_client --max-time 20 -H 'Content-Type: application/yaml' --data-binary "@$work/amplified.yaml" "$url/v1/sessions" || true)
took_ms=$((($(date +%s%N) - started) / 1000000))
[ "$code" = 400 ] || fail "an alias-amplified session ($(wc -c <"$work/amplified.yaml") bytes) gave $code, not 400, after $took_ms ms"
grep -q "limit on expanded YAML bytes" "$work/body" || fail "the refusal does not name the limit: $(head -c 300 "$work/body")"
[ "$took_ms" -lt 3000 ] || fail "refusing the alias-amplified session took $took_ms ms"
peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
[ "$peak_kib" -lt 300000 ] || fail "the CAS peaked at $peak_kib KiB"
[ "$(anonymous "$url/v1/version")" = 200 ] || fail "the CAS stopped answering after an alias-amplified session"
kill -0 "$server_pid" || fail "the CAS died"
step "an alias-amplified session refused with 400 in $took_ms ms (CAS peak $peak_kib KiB); the CAS stays up"

# The same reader on the client: a 484 KB mesh.yaml that would expand to gigabytes.
mkdir -p "$work/amplified-mesh"
python3 - "$work/amplified-mesh/mesh.yaml" <<'PY'
import sys
lines = ["apiVersion: scone/5.8", "kind: mesh", "cas:", "  - name: cas", "    cas_url: 127.0.0.1:8081",
         "    mode: NoUpload", "policy:", "  namespace: amplified", "env:", "  - service: global",
         "    env:", "      - name: E0", '        value: &big "' + "x" * 100_000 + '"']
i = 1
while sum(len(l) + 1 for l in lines) < 484_000:
    lines += [f"      - name: E{i}", "        value: *big"]
    i += 1
lines += ["services:", "  - name: app", "    image: 127.0.0.1:5000/amplified/app:1"]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
status=0
(cd "$work/amplified-mesh" && timeout 60 "$sconectl" apply -f mesh.yaml --dry-run >"$work/amplified-mesh.out" 2>"$work/amplified-mesh.err") || status=$?
[ "$status" -ne 0 ] && [ "$status" -lt 124 ] || fail "apply --dry-run of an alias-amplified mesh.yaml exited with $status: $(head -c 300 "$work/amplified-mesh.err")"
grep -q "mesh.yaml:[0-9]*:[0-9]*:.*limit on expanded YAML bytes" "$work/amplified-mesh.err" ||
  fail "no clear error for an alias-amplified mesh.yaml: $(head -c 300 "$work/amplified-mesh.err")"
grep -q bad_alloc "$work/amplified-mesh.err" && fail "apply --dry-run ran out of memory"
step "an alias-amplified mesh.yaml ($(wc -c <"$work/amplified-mesh/mesh.yaml") bytes): apply --dry-run refuses it, naming the limit"

# --- two concurrent updates from the same predecessor: exactly one wins.
current=$("$sconectl" --format json session get "$session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')
for who in one two; do
  sed -e "s/API_USER: \"somebody-else\"/API_USER: \"$who\"/" -e '/^creator:/d' -e '/^predecessor:/d' "$work/current.yaml" >"$work/$who.yaml"
  echo "predecessor: \"$current\"" >>"$work/$who.yaml"
done
codes=$( (curl -sS --cacert "$CAS_CERT" --cert "$work/client.pem" -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/yaml' --data-binary "@$work/one.yaml" "$url/v1/sessions" &
          curl -sS --cacert "$CAS_CERT" --cert "$work/client.pem" -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/yaml' --data-binary "@$work/two.yaml" "$url/v1/sessions" &
          wait) | sort | tr '\n' ' ')
[ "$codes" = "200 409 " ] || fail "two concurrent updates from one predecessor gave: $codes"
step "concurrent updates from one predecessor: one 200, one 409"

# --- restart: every session and the identity survive.
count_before=$(sqlite3 "$data/cas.db" "select count(*) from versions")
stop_cas -TERM
start_cas "$CAS_ADDR"
[ "$CAS_KEY" = "$first_key" ] || fail "the CAS identity changed across a restart"
[ "$(sqlite3 "$data/cas.db" "select count(*) from versions")" = "$count_before" ] || fail "versions lost across a restart"
"$sconectl" session history "$session" >"$work/history.txt" || fail "history after restart"
[ "$(wc -l <"$work/history.txt")" -eq 3 ] || fail "expected 3 versions after restart: $(cat "$work/history.txt")"
step "restarted CAS keeps its key and all $count_before versions"

# --- SIGKILL during a burst of concurrent uploads (16 in flight, so commits are grouped): no
# acknowledged session is lost; the apply completes on the restarted CAS (connection failures are
# retried).
burst="$work/burst"
python3 "$root/bench/gen_mesh.py" "$burst" 150 >/dev/null
sed -i -e "s|cas_url: .*|cas_url: $CAS_ADDR|" -e "s|mode: NoUpload|mode: Upload\n    cas_key: $CAS_KEY|" "$burst/mesh.yaml"
(cd "$burst" && "$sconectl" -v --format json apply -f mesh.yaml --cas-concurrency 16 >"$work/burst.json" 2>"$work/burst.err") &
apply_pid=$!
for _ in $(seq 300); do
  [ "$(grep -c 'POST /v1/sessions' "$work/cas.log" || true)" -ge 40 ] && break
  sleep 0.05
done
log_lines=$(wc -l <"$work/cas.log")
stop_cas -KILL
step "SIGKILLed the CAS after $(grep -c 'POST /v1/sessions' "$work/cas.log") uploads in total"
sleep 0.5
start_cas "$CAS_ADDR"
wait "$apply_pid" || fail "the apply did not complete on the restarted CAS: $(grep -v ": created (" "$work/burst.err")"
python3 - "$burst/target/cas/sessions.json" "$data/cas.db" <<'PY' || fail "an acknowledged session is missing"
import json, sqlite3, sys
record = json.load(open(sys.argv[1]))["sessions"]
db = sqlite3.connect(sys.argv[2])
stored = {row[0]: row[1] for row in db.execute("select name, hash from current")}
assert len(record) == 151, len(record)
for name, entry in record.items():
    assert stored.get(name) == entry["hash"], (name, entry["hash"], stored.get(name))
PY
step "all 151 acknowledged sessions present after SIGKILL and restart"

# --- no generated secret value anywhere outside the CAS: target/, the output, the logs.
sqlite3 "$data/cas.db" "select hex(value) from secrets" >"$work/generated.hex"
[ -s "$work/generated.hex" ] || fail "the CAS generated no secrets"
python3 - "$work/generated.hex" "$app" "$burst" "$work" <<'PY' || fail "a generated secret value leaked"
import os, sys
values = set()
for line in open(sys.argv[1]):
    raw = bytes.fromhex(line.strip())
    # PEM keys and certificates: look for their base64 body lines; other values as they are.
    if raw.startswith(b"-----BEGIN"):
        values.update(l for l in raw.splitlines() if len(l) >= 40 and not l.startswith(b"-----"))
    elif len(raw) >= 8:
        values.add(raw)
        values.add(raw.hex().encode())
leaks = []
for top in sys.argv[2:]:
    for base, _, files in os.walk(top):
        for name in files:
            path = os.path.join(base, name)
            if "cas-data" in path or name in ("generated.hex", "cas.env"):
                continue
            data = open(path, "rb").read()
            leaks += [(path, v[:12]) for v in values if v in data]
assert not leaks, leaks[:5]
print(f"cas_test: scanned for {len(values)} generated values: none outside the CAS")
PY
step "passed"
