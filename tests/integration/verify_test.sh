#!/usr/bin/env bash
# `sconectl verify` against the local CAS (`sconectl cas serve`) over real mutual TLS on loopback,
# with the hello-world mesh (its service recorded, not built). The cluster side runs in
# integration.kubernetes.
#  - after apply, verify exits 0 ("verified"); JSON and text agree;
#  - `--evidence DIR` writes a bundle; `verify --offline DIR` gives the same report without a CAS
#    (the CAS is stopped); one changed byte, and an added file, are refused naming the file;
#  - another checkout applies with --mode debug (a debug toleration added, a version this target
#    directory did not upload): verify exits 3 with exactly session-differs (naming the toleration),
#    foreign-version and, in production mode, the lint's tolerates-debug-mode; the offline bundle
#    written then says the same;
#  - neither the outputs nor the bundles hold the explicit secret value or the environment value
#    the manifests give (both planted, and found in the policies as a control).
#   tests/integration/verify_test.sh SCONECTL_BINARY RECORD_SERVICE_BINARY
# Exit 125 (skipped) when the local CAS cannot start, except in CI.
set -euo pipefail
sconectl=$(realpath "$1")
record_service=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=verify_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
trap 'stop_cas -KILL; rm -rf "$work"' EXIT

export SCONECTL_DOCKER=/nonexistent   # services are recorded, not built
cas_data="$work/cas-data"
start_cas
export SCONECTL_CAS_CONFIG="$work/client" CAS_ADDR CAS_KEY
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" >/dev/null || fail "cas attest"

token=explicit-token-verify-4be1c7
export API_USER=planted-user-value-93d2
app="$work/hello"
mkdir -p "$app"
cp "$root/examples/hello-world/mesh.yaml" "$app/"
python3 - "$root/examples/hello-world/service.yaml" "$app/service.yaml" "$token" <<'PY'
import sys
source, target, token = sys.argv[1:]
text = open(source).read().replace("secrets:\n  global:\n", "secrets:\n  global:\n    - name: api_token\n      kind: ascii\n      value: \"%s\"\n" % token, 1)
assert "api_token" in text
open(target, "w").write(text)
PY
"$record_service" "$app/service.yaml" "$app/target" || fail "record_service"
session=hello-world-demo/hello-user
(cd "$app" && "$sconectl" apply -f mesh.yaml >"$work/apply.out" 2>"$work/apply.err") || fail "apply: $(cat "$work/apply.err")"

# verify NAME [ARGS...]: in $app, JSON in $work/NAME.json, exit code in $rc.
verify_json() {
  local name=$1; shift
  rc=0
  (cd "$app" && "$sconectl" --format json verify -f mesh.yaml "$@" >"$work/$name.json" 2>"$work/$name.err") || rc=$?
}
# kinds NAME: severity:kind of every finding, sorted.
kinds() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(f["severity"] + ":" + f["kind"] for f in d["findings"])))
PY
}
expect() { # expect NAME RC KINDS [ARGS...]
  local name=$1 want_rc=$2 want=$3; shift 3
  verify_json "$name" "$@"
  [ "$rc" = "$want_rc" ] || fail "verify $name: exit $rc, expected $want_rc: $(cat "$work/$name.err") $(cat "$work/$name.json")"
  local got
  got=$(kinds "$name")
  [ "$got" = "$want" ] || fail "verify $name: findings '$got', expected '$want'"
  step "verify $name: exit $rc, ${want:-no findings}"
}

expect clean 0 "" --evidence "$work/bundle-clean"
[ "$(json_field "$work/clean.json" 'd["verdict"]')" = verified ] || fail "verdict: $(cat "$work/clean.json")"
[ "$(json_field "$work/clean.json" 'd["checked"]["sessions"]')" = 2 ] || fail "checked: $(cat "$work/clean.json")"
(cd "$app" && "$sconectl" verify -f mesh.yaml >"$work/clean.txt" 2>&1) || fail "verify (text): $(cat "$work/clean.txt")"
grep -q "^verified: 2 sessions; 0 errors, 0 warnings$" "$work/clean.txt" || fail "text report: $(cat "$work/clean.txt")"
[ -f "$work/bundle-clean/SHA256SUMS" ] && [ -f "$work/bundle-clean/sessions/$session.json" ] || fail "no evidence bundle: $(ls -R "$work/bundle-clean")"
(cd "$work/bundle-clean" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c of the bundle"
step "a bundle: sessions/$session.json and SHA256SUMS that sha256sum -c accepts"

# --- another checkout (its own target directory) applies with --mode debug.
other="$work/other"
mkdir -p "$other"
cp -r "$app/mesh.yaml" "$app/service.yaml" "$app/target" "$other/"
rm -rf "$other/target/cas"
(cd "$other" && "$sconectl" apply -f mesh.yaml --mode debug >/dev/null 2>"$work/theirs.err") || fail "the other checkout's apply: $(cat "$work/theirs.err")"
theirs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][sys.argv[2]]["hash"])' "$other/target/cas/sessions.json" "$session")
expect debug 3 "error:session-differs error:tolerates-debug-mode warning:foreign-version" --evidence "$work/bundle-debug"
python3 - "$work/debug.json" "$session" "$theirs" <<'PY' || fail "the findings do not name the session, the toleration and their hash: $(cat "$work/debug.json")"
import json, sys
d, session, theirs = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
differs = [f for f in d["findings"] if f["kind"] == "session-differs"][0]
assert differs["subject"] == session and theirs in differs["message"], differs
assert any("debug-mode" in line and "[toleration-added]" in line for line in differs["details"]), differs
foreign = [f for f in d["findings"] if f["kind"] == "foreign-version"][0]
assert theirs in foreign["message"], foreign
lint = [f for f in d["findings"] if f["kind"] == "tolerates-debug-mode"][0]
assert lint["subject"] == "session %s: security.attestation.tolerate" % session, lint
assert d["verdict"] == "differences"
PY
step "another checkout's debug apply: session-differs names the toleration and their hash"
# With --mode debug these manifests produce exactly their version: what remains is that this
# target directory did not upload it, and the lint's finding, now a warning.
expect debug-mode 0 "warning:foreign-version warning:tolerates-debug-mode" --mode debug

# --- offline, with the CAS stopped: the same reports.
stop_cas
rc=0
(cd "$app" && "$sconectl" --format json verify -f mesh.yaml --offline "$work/bundle-clean" >"$work/offline-clean.json" 2>"$work/offline-clean.err") || rc=$?
[ "$rc" = 0 ] || fail "offline verify of the clean bundle: exit $rc: $(cat "$work/offline-clean.err")"
cmp -s "$work/clean.json" "$work/offline-clean.json" || fail "offline report differs: $(diff "$work/clean.json" "$work/offline-clean.json" | head)"
cmp -s "$work/offline-clean.json" "$work/bundle-clean/summary.json" || fail "the bundle's summary.json is not the report"
rc=0
(cd "$app" && "$sconectl" --format json verify -f mesh.yaml --offline "$work/bundle-debug" >"$work/offline-debug.json" 2>"$work/offline-debug.err") || rc=$?
[ "$rc" = 3 ] || fail "offline verify of the debug bundle: exit $rc: $(cat "$work/offline-debug.err")"
cmp -s "$work/debug.json" "$work/offline-debug.json" || fail "offline report differs: $(diff "$work/debug.json" "$work/offline-debug.json" | head)"
step "offline, the CAS stopped: both bundles give the online reports"

# One changed byte: a digit of a hash in the session's chain.
tampered="$work/bundle-tampered"
cp -r "$work/bundle-debug" "$tampered"
python3 - "$tampered/sessions/$session.json" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
at = data.index(b'"hash": "') + len(b'"hash": "')
data[at] = ord("0") if data[at] != ord("0") else ord("1")
open(path, "wb").write(bytes(data))
PY
rc=0
(cd "$app" && "$sconectl" verify -f mesh.yaml --offline "$tampered" >"$work/tampered.out" 2>"$work/tampered.err") || rc=$?
[ "$rc" = 2 ] || fail "a tampered bundle: exit $rc, expected 2: $(cat "$work/tampered.err")"
grep -q "sessions/$session.json: changed since the evidence bundle was written" "$work/tampered.err" || fail "the refusal does not name the file: $(cat "$work/tampered.err")"
cp -r "$work/bundle-debug" "$work/bundle-added"
echo '{}' >"$work/bundle-added/notes.json"
rc=0
(cd "$app" && "$sconectl" verify -f mesh.yaml --offline "$work/bundle-added" >/dev/null 2>"$work/added.err") || rc=$?
[ "$rc" = 2 ] && grep -q "notes.json: not part of the evidence bundle" "$work/added.err" || fail "an added file: exit $rc: $(cat "$work/added.err")"
step "one changed byte, or an added file, is refused naming the file (exit 2)"

# --- secret scan. The control: both values are in the policies bound for the CAS.
grep -rqF "$token" "$app/target/policies" && grep -rqF "$API_USER" "$app/target/policies" ||
  fail "the planted values are not in the policies: the scan proves nothing"
if grep -rlF -e "$token" -e "$API_USER" "$work"/*.json "$work"/*.err "$work"/*.txt "$work"/*.out "$work"/bundle-*; then
  fail "a planted value appears in verify's output or an evidence bundle (above)"
fi
step "no planted value in any output or bundle"
echo "$test_name: passed"
