#!/usr/bin/env bash
# `sconectl diff` and reviewed plans against the local CAS (`sconectl cas serve`) over real mutual
# TLS on loopback, with the hello-world mesh and the three-service test mesh (services recorded,
# not built):
#  - no change: exit 0; each risk class, made by one minimal change, is reported exactly (the kinds
#    of all changes, nothing missed, nothing extra) with exit 3: environment, injection file and
#    command; toleration and ignored advisory; regenerated secret, explicit value, export;
#    measurement; access policy (made on the CAS); imports added and removed, and a session no
#    longer produced (three-service mesh);
#  - colour on a terminal (a pseudo-terminal), none with NO_COLOR or when piped;
#  - production mode refuses a secret regeneration and an added toleration without the flag the
#    error names (exit 2), uploading nothing; the flag lets it through; without a plan, apply
#    prints the risk lines (regenerated secret, dropped measurement, added toleration) before it
#    uploads;
#  - an explicit secret value is shown only as changed: the outputs are scanned for it;
#  - `diff --out plan.json` then `apply --plan plan.json` stores exactly the planned hash; the plan
#    is refused, uploading nothing, when the manifests changed or when another client identity
#    (granted update rights by the owner) updated the session in between; so is a plain apply
#    (exit 1, naming both hashes, uploading nothing) until --force-conflicts, which replaces their
#    version with a warning naming both hashes;
#  - against SCONE's CAS API only (`cas serve --without-batch-reads`) diff answers the same.
#   tests/integration/diff_test.sh SCONECTL_BINARY RECORD_SERVICE_BINARY
# Exit 125 (skipped) when sqlite3 is missing, except in CI.
set -euo pipefail
sconectl=$(realpath "$1")
record_service=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=diff_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
trap 'stop_cas -KILL; rm -rf "$work"' EXIT

command -v sqlite3 >/dev/null || skip_or_fail "sqlite3 is not installed"
export SCONECTL_DOCKER=/nonexistent   # services are recorded, not built
cas_data="$work/cas-data"
start_cas
export SCONECTL_CAS_CONFIG="$work/client" CAS_ADDR CAS_KEY
"$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" >/dev/null || fail "cas attest"

token_one=explicit-token-one-7c41d2
token_two=explicit-token-two-93ab0e
app="$work/hello"
mkdir -p "$app"
cp "$root/examples/hello-world/mesh.yaml" "$app/"
# No ignored advisories, unless APP_ADVISORIES names some.
sed -i 's/^  tolerate: .*/&\n  ignore_advisories: "${APP_ADVISORIES:-}"/' "$app/mesh.yaml"
grep -q "ignore_advisories" "$app/mesh.yaml" || fail "no ignore_advisories line in the mesh"
# The hello-world service with one more secret whose value the manifest gives.
record() { # record SIZE TOKEN [NAMESPACE]: api_password of SIZE, api_token TOKEN exported to NAMESPACE
  sed -e "s/      size: 16/      size: $1/" "$root/examples/hello-world/service.yaml" >"$app/service.yaml"
  python3 - "$app/service.yaml" "$2" "${3:-}" <<'PY'
import sys
path, token, namespace = sys.argv[1], sys.argv[2], sys.argv[3]
export = "      export:\n        - namespace: %s\n" % namespace if namespace else ""
text = open(path).read().replace("secrets:\n  global:\n", "secrets:\n  global:\n    - name: api_token\n      kind: ascii\n      value: \"%s\"\n%s" % (token, export), 1)
assert "api_token" in text
open(path, "w").write(text)
PY
  "$record_service" "$app/service.yaml" "$app/target" || fail "record_service"
}
record 16 "$token_one"
session=hello-world-demo/hello-user
versions() { sqlite3 "$cas_data/cas.db" "select count(*) from versions"; }

# diff NAME [ENV...]: `diff -f mesh.yaml` in $app, JSON in $work/NAME.json, exit code in $rc.
diff_json() {
  local name=$1; shift
  rc=0
  (cd "$app" && env "$@" "$sconectl" --format json diff -f mesh.yaml >"$work/$name.json" 2>"$work/$name.err") || rc=$?
}
# kinds NAME: every change as session:kind, sorted.
kinds() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(s["name"].split("/")[-1] + ":" + c["kind"] for s in d["sessions"] for c in s["changes"])))
PY
}
# actions NAME: every session that is not unchanged as session:action, sorted.
actions() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(s["name"].split("/")[-1] + ":" + s["action"] for s in d["sessions"] if s["action"] != "unchanged")))
PY
}
expect() { # expect NAME RC KINDS [ENV...]
  local name=$1 want_rc=$2 want=$3; shift 3
  diff_json "$name" "$@"
  [ "$rc" = "$want_rc" ] || fail "diff $name: exit $rc, expected $want_rc: $(cat "$work/$name.err")"
  local got
  got=$(kinds "$name")
  [ "$got" = "$want" ] || fail "diff $name: changes '$got', expected '$want'"
  step "diff $name: exit $rc, ${want:-no changes}"
}

(cd "$app" && "$sconectl" --format json apply -f mesh.yaml >"$work/first.json" 2>"$work/first.err") ||
  fail "first apply: $(cat "$work/first.err")"

# --- nothing changed, then one risk class at a time.
expect unchanged 0 ""
[ "$(json_field "$work/unchanged.json" 'd["summary"]["unchanged"]')" = 2 ] || fail "unchanged summary"
expect program 3 "hello-user:environment-changed" API_USER=someone-else
expect toleration 3 "hello-user:toleration-added" APP_TOLERATE="outdated-tcb, software-hardening-needed, hyperthreading"
[ "$(json_field "$work/toleration.json" 'd["summary"]["weakens"]')" = True ] || fail "an added toleration should weaken"
expect advisory 3 "hello-user:advisory-ignored" APP_ADVISORIES=INTEL-SA-00615
[ "$(json_field "$work/advisory.json" 'd["summary"]["weakens"]')" = True ] || fail "an ignored advisory should weaken"
grep -q "INTEL-SA-00615" "$work/advisory.json" || fail "the diff does not name the ignored advisory"
# GREETING is an environment variable of the service and part of its injection file.
expect file 3 "hello-user:environment-changed hello-user:file-changed" GREETING=Howdy
grep -q "injection file /run/hello-user/greeting.conf changes" "$work/file.json" || fail "the diff does not name the injection file: $(cat "$work/file.json")"
record 20 "$token_one"
expect secret 3 "hello-user:secret-regenerated"
[ "$(json_field "$work/secret.json" 'd["summary"]["destructive"]')" = True ] || fail "a regenerated secret is destructive"
record 16 "$token_two"
expect explicit 3 "hello-user:secret-value-changed"
(cd "$app" && "$sconectl" diff -f mesh.yaml >"$work/explicit.txt" 2>&1) && fail "diff with changes exited 0"
record 16 "$token_one" partner-namespace
expect export 3 "hello-user:export-added"
[ "$(json_field "$work/export.json" 'd["summary"]["weakens"]')" = True ] || fail "a new export should widen access"
grep -q "partner-namespace" "$work/export.json" || fail "the export does not name who gains access"
record 16 "$token_one"
descriptor=$(grep -rl '"measurement"' "$app/target" --include '*.json' | grep -v /cas/ | sed -n 1p)
[ -n "$descriptor" ] || fail "no service descriptor in $app/target"
cp "$descriptor" "$work/descriptor.bak"
python3 - "$descriptor" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["measurement"]["value"] = "ab" * 32; json.dump(d, open(sys.argv[1], "w"))
PY
expect measurement 3 "hello-user:measurement-added hello-user:measurement-removed"
grep -q "fail attestation at their next start" "$work/measurement.json" || fail "a removed measurement does not warn about running pods"
cp "$work/descriptor.bak" "$descriptor"
# A new command comes with a rebuilt image (and so a new measurement); here only the recorded
# command changes.
python3 - "$descriptor" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["service"]["command"] = ["python3", "-u", "greet.py"]; json.dump(d, open(sys.argv[1], "w"))
PY
expect command 3 "hello-user:command-changed"
cp "$work/descriptor.bak" "$descriptor"
expect restored 0 ""

# No colour when piped; the explicit values never appear.
grep -q $'\033' "$work/explicit.txt" && fail "colour codes in piped output"
grep -q "secret-value-changed" "$work/explicit.txt" || fail "the text output misses the changed value: $(cat "$work/explicit.txt")"
# The control: the value is in the policy that goes to the CAS.
grep -rqF "$token_one" "$app/target/policies" || fail "the explicit value is not in the policy: the scan proves nothing"
if grep -rl -e "$token_one" -e "$token_two" "$work"/*.json "$work"/*.err "$work"/*.txt; then
  fail "an explicit secret value appears in the diff output"
fi
step "text output without colour when piped; explicit secret values never shown"

# On a terminal (a pseudo-terminal that script(1) opens) there is colour, unless NO_COLOR is set.
tty_diff() { # tty_diff NAME [ENV...]: the text diff on a terminal in $work/NAME.tty, exit code in $rc
  local name=$1; shift
  rc=0
  (cd "$app" && env "$@" script -qec "$sconectl diff -f mesh.yaml" /dev/null </dev/null >"$work/$name.tty" 2>&1) || rc=$?
  [ "$rc" = 3 ] || fail "diff on a terminal ($name): exit $rc: $(cat -v "$work/$name.tty")"
  grep -q "\[environment-changed\]" "$work/$name.tty" || fail "diff on a terminal ($name) printed no change: $(cat -v "$work/$name.tty")"
}
tty_diff colour API_USER=someone-else
grep -q $'\033\\[' "$work/colour.tty" || fail "no colour on a terminal: $(cat -v "$work/colour.tty")"
tty_diff no-colour API_USER=someone-else NO_COLOR=1
grep -q $'\033' "$work/no-colour.tty" && fail "colour on a terminal with NO_COLOR: $(cat -v "$work/no-colour.tty")"
step "colour on a terminal, none with NO_COLOR"

# --- the three-service mesh: db exports secrets to backend, which imports them.
three="$work/three"
cp -r "$root/tests/data/mesh-three" "$three"
# Production mode and fixed image names (record_service reads no environment); db also exports
# db_user, which backend does not import yet.
sed -i 's/tolerate: "outdated-tcb, simulation"/tolerate: "outdated-tcb"/' "$three/mesh.yaml"
sed -i 's|${APP_IMAGE_REPO}|127.0.0.1:5000/diff-test|g' "$three"/*.yaml
python3 - "$three/db.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read().replace("secrets:\n  global:\n", "secrets:\n  global:\n    - name: db_user\n      kind: ascii\n      size: 12\n      export:\n        - session: ../backend\n", 1)
assert "db_user" in text
open(path, "w").write(text)
PY
cp "$three/backend.yaml" "$work/backend.base"
three_env=(APP_NAMESPACE=diff-shop RELEASE=diff-shop)
for service in db backend frontend; do
  "$record_service" "$three/$service.yaml" "$three/target" || fail "record_service $service"
done
# three_diff NAME RC KINDS ACTIONS: diff of the three-service mesh, its changes and actions exactly.
three_diff() {
  local name=$1 want_rc=$2 want=$3 want_actions=$4
  rc=0
  (cd "$three" && env "${three_env[@]}" "$sconectl" --format json diff -f mesh.yaml >"$work/$name.json" 2>"$work/$name.err") || rc=$?
  [ "$rc" = "$want_rc" ] || fail "diff $name: exit $rc, expected $want_rc: $(cat "$work/$name.err")"
  [ "$(kinds "$name")" = "$want" ] || fail "diff $name: changes '$(kinds "$name")', expected '$want'"
  [ "$(actions "$name")" = "$want_actions" ] || fail "diff $name: actions '$(actions "$name")', expected '$want_actions'"
  step "diff $name: exit $rc, ${want:-no changes}${want_actions:+; $want_actions}"
}
three_apply() {
  (cd "$three" && env "${three_env[@]}" "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/three-apply.err") ||
    fail "apply of the three-service mesh: $(cat "$work/three-apply.err")"
}
three_apply
three_diff three-unchanged 0 "" ""
sed -i 's/^    - db_password$/&\n    - db_user/' "$three/backend.yaml"
"$record_service" "$three/backend.yaml" "$three/target" || fail "record_service backend"
three_diff import-added 3 "backend:import-added" "backend:update"
grep -q "session diff-shop/backend gains access to secret db_user of session diff-shop/db" "$work/import-added.json" ||
  fail "the import does not name who gains access from whom: $(cat "$work/import-added.json")"
three_apply
cp "$work/backend.base" "$three/backend.yaml"
"$record_service" "$three/backend.yaml" "$three/target" || fail "record_service backend"
three_diff import-removed 3 "backend:import-removed" "backend:update"
grep -q "session diff-shop/backend loses access to secret db_user of session diff-shop/db" "$work/import-removed.json" ||
  fail "the import does not name who loses access from whom: $(cat "$work/import-removed.json")"
three_apply
python3 - "$three/mesh.yaml" <<'PY'
import re, sys
path = sys.argv[1]
text = re.sub(r"  - name: frontend\n    image: [^\n]*\n", "", open(path).read())
assert "frontend" not in text.split("services:")[1]
open(path, "w").write(text)
PY
three_diff no-longer-produced 3 "" "frontend:orphaned"
grep -q '"orphaned": 1' "$work/no-longer-produced.json" || fail "the summary does not count the session no longer produced"

# --- production mode needs consent to regenerate a secret or weaken attestation.
record 20 "$token_one"
before=$(versions)
rc=0
(cd "$app" && "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/roll.err") || rc=$?
[ "$rc" = 2 ] || fail "production apply of a password roll without --allow-secret-regeneration: exit $rc, expected 2: $(cat "$work/roll.err")"
grep -q -- "--allow-secret-regeneration" "$work/roll.err" || fail "the refusal does not name the flag: $(cat "$work/roll.err")"
[ "$(versions)" = "$before" ] || fail "the refused apply uploaded something"
(cd "$app" && "$sconectl" apply -f mesh.yaml --allow-secret-regeneration >/dev/null 2>"$work/roll2.err") ||
  fail "apply --allow-secret-regeneration: $(cat "$work/roll2.err")"
grep -q "api_password" "$work/roll2.err" || fail "apply did not print the regenerated secret: $(cat "$work/roll2.err")"
rc=0
(cd "$app" && APP_TOLERATE="outdated-tcb, software-hardening-needed, hyperthreading" "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/weak.err") || rc=$?
[ "$rc" = 2 ] || fail "production apply of an added toleration without --allow-weaker-attestation: exit $rc, expected 2: $(cat "$work/weak.err")"
grep -q -- "--allow-weaker-attestation" "$work/weak.err" || fail "the refusal does not name the flag: $(cat "$work/weak.err")"
step "production refuses a password roll and an added toleration, naming the flag; the flag allows it"

# Without a plan, apply prints its risk lines before it uploads (the regenerated secret's is
# checked above): a dropped measurement and an added toleration.
old_measurement=$(json_field "$descriptor" 'd["measurement"]["value"]')
cp "$descriptor" "$work/descriptor.bak"
python3 - "$descriptor" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["measurement"]["value"] = "cd" * 32; json.dump(d, open(sys.argv[1], "w"))
PY
(cd "$app" && APP_TOLERATE="outdated-tcb, software-hardening-needed, hyperthreading" "$sconectl" apply -f mesh.yaml --allow-weaker-attestation >/dev/null 2>"$work/risks.err") ||
  fail "apply --allow-weaker-attestation: $(cat "$work/risks.err")"
grep -qxF "sconectl: warning: session $session: service hello-user no longer accepts measurement $old_measurement: pods running it fail attestation at their next start" "$work/risks.err" ||
  fail "apply did not print the dropped measurement: $(cat "$work/risks.err")"
grep -qxF "sconectl: warning: session $session: attestation now tolerates hyperthreading: it proves less" "$work/risks.err" ||
  fail "apply did not print the added toleration: $(cat "$work/risks.err")"
cp "$work/descriptor.bak" "$descriptor"
(cd "$app" && "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/risks-undone.err") || fail "apply of the recorded measurement: $(cat "$work/risks-undone.err")"
step "without a plan, apply printed the dropped measurement and the added toleration before it uploaded"

# --- reviewed plans.
(cd "$app" && API_USER=planned "$sconectl" --format json diff -f mesh.yaml --out "$work/plan.json" >"$work/planned.json") && fail "diff --out with changes exited 0"
[ "$(stat -c %a "$work/plan.json")" = 600 ] || fail "plan.json is not 0600"
planned_hash=$(json_field "$work/plan.json" 'd["uploads"][0]["planned_hash"]')
(cd "$app" && API_USER=planned "$sconectl" --format json apply -f mesh.yaml --plan "$work/plan.json" >"$work/plan-apply.json" 2>"$work/plan-apply.err") ||
  fail "apply --plan: $(cat "$work/plan-apply.err")"
current_hash() { "$sconectl" --format json session history "$session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"][0]["hash"])'; }
[ "$(current_hash)" = "$planned_hash" ] || fail "apply --plan did not store the planned hash $planned_hash"
step "apply --plan stored exactly the planned hash"

(cd "$app" && API_USER=reviewed "$sconectl" diff -f mesh.yaml --out "$work/plan2.json" >/dev/null) && fail "diff exited 0"
before=$(versions)
if (cd "$app" && API_USER=not-reviewed "$sconectl" apply -f mesh.yaml --plan "$work/plan2.json" >/dev/null 2>"$work/plan2.err"); then
  fail "apply --plan uploaded what the manifests produce now, not the plan"
fi
grep -q "$session" "$work/plan2.err" || fail "the refusal does not name the session: $(cat "$work/plan2.err")"
[ "$(versions)" = "$before" ] || fail "the refused plan uploaded something"
step "a plan the manifests no longer produce is refused, naming the session"

# Another client identity (its own config directory, so its own key) updates the session between
# diff and apply. The CAS lets it only once the owner names its key hash in the session's
# access_policy, with a session update on the CAS: the manifests always produce the default
# policy, so that is also where an access policy change comes from.
second="$work/second-identity"
second_key=$(SCONECTL_CAS_CONFIG="$second" "$sconectl" self show-key-hash)
[ "$second_key" != "$("$sconectl" self show-key-hash)" ] || fail "the second identity has the owner's key"
SCONECTL_CAS_CONFIG="$second" "$sconectl" cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" >/dev/null || fail "cas attest as the second identity"
recorded=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"][sys.argv[2]]["hash"])' "$app/target/cas/sessions.json" "$session")
"$sconectl" session get "$session" --cas "$CAS_ADDR" >"$work/granted.yaml" 2>"$work/get.err" || fail "session get: $(cat "$work/get.err")"
# session_text FILE KEY USER: the session as read, without what the CAS sets (creator,
# predecessor), with KEY added to read and update (none: as it is), and API_USER set to USER.
session_text() {
  python3 - "$@" <<'PY'
import sys
path, key, user = sys.argv[1:4]
lines = [l for l in open(path).read().splitlines(True) if not l.startswith(("creator:", "predecessor:"))]
text = "".join(lines)
for field in ("read", "update"):
    before = '  %s:\n    - "CREATOR"\n' % field
    assert before in text, text
    if key != "none":
        text = text.replace(before, before + '    - "%s"\n' % key, 1)
user_line = [l for l in text.splitlines() if l.strip().startswith("API_USER:")]
assert len(user_line) == 1, text
text = text.replace(user_line[0], '      API_USER: "%s"' % user, 1)
open(path, "w").write(text)
PY
}
cp "$work/granted.yaml" "$work/theirs.yaml"
session_text "$work/theirs.yaml" none theirs
before=$(versions)
if SCONECTL_CAS_CONFIG="$second" "$sconectl" session update "$work/theirs.yaml" --cas "$CAS_ADDR" >/dev/null 2>"$work/not-granted.err"; then
  fail "the CAS let another identity update a session whose access_policy does not name it"
fi
[ "$(versions)" = "$before" ] || fail "the refused update stored something"
session_text "$work/granted.yaml" "$second_key" planned
"$sconectl" session update "$work/granted.yaml" --cas "$CAS_ADDR" >/dev/null 2>"$work/grant.err" || fail "the owner's grant: $(cat "$work/grant.err")"
expect access 3 "hello-user:access-narrowed hello-user:access-narrowed" API_USER=planned
grep -q "$second_key" "$work/access.json" || fail "the access change does not name the key: $(cat "$work/access.json")"
[ "$(json_field "$work/access.json" 'd["summary"]["changed_elsewhere"]')" = True ] || fail "the grant on the CAS is not reported as changed elsewhere"
SCONECTL_CAS_CONFIG="$second" "$sconectl" session update "$work/theirs.yaml" --cas "$CAS_ADDR" >/dev/null 2>"$work/theirs.err" ||
  fail "the second identity's update: $(cat "$work/theirs.err")"
theirs=$(current_hash)
before=$(versions)
if (cd "$app" && API_USER=reviewed "$sconectl" apply -f mesh.yaml --plan "$work/plan2.json" >/dev/null 2>"$work/plan3.err"); then
  fail "apply --plan overwrote a session changed since the plan"
fi
grep -q "$theirs" "$work/plan3.err" || fail "the refusal does not name the CAS's hash: $(cat "$work/plan3.err")"
grep -q "$session" "$work/plan3.err" || fail "the refusal does not name the session: $(cat "$work/plan3.err")"
[ "$(versions)" = "$before" ] || fail "the refused plan uploaded something"
diff_json concurrent API_USER=reviewed
[ "$rc" = 3 ] || fail "diff after another update: exit $rc"
[ "$(json_field "$work/concurrent.json" '[s["concurrency"] for s in d["sessions"] if s["name"] == "'"$session"'"][0]')" = "{'recorded': '$recorded', 'current': '$theirs'}" ] ||
  fail "diff does not name both hashes: $(cat "$work/concurrent.json")"
rc=0
(cd "$app" && API_USER=reviewed "$sconectl" apply -f mesh.yaml >/dev/null 2>"$work/plain.err") || rc=$?
[ "$rc" = 1 ] || fail "a plain apply over another identity's update: exit $rc, expected 1: $(cat "$work/plain.err")"
grep "$session: recorded $recorded, the CAS has $theirs" "$work/plain.err" | grep . >/dev/null ||
  fail "the plain apply's refusal does not name the session and both hashes: $(cat "$work/plain.err")"
grep -q -- "--force-conflicts" "$work/plain.err" || fail "the refusal does not name --force-conflicts: $(cat "$work/plain.err")"
[ "$(versions)" = "$before" ] || fail "the refused plain apply uploaded something"
[ "$(current_hash)" = "$theirs" ] || fail "the refused plain apply changed the session"
(cd "$app" && API_USER=reviewed "$sconectl" apply -f mesh.yaml --force-conflicts >/dev/null 2>"$work/forced.err") ||
  fail "apply --force-conflicts: $(cat "$work/forced.err")"
grep "warning" "$work/forced.err" | grep "$recorded" | grep "$theirs" >/dev/null || fail "apply --force-conflicts does not name both hashes: $(cat "$work/forced.err")"
[ "$(current_hash)" != "$theirs" ] || fail "apply --force-conflicts did not replace their version"
step "another identity's update: the plan and a plain apply are refused (uploading nothing), diff names both hashes; --force-conflicts replaces it"

# --- SCONE's CAS API only: one GET per session, the same answer.
diff_json batch API_USER=batch
stop_cas
start_cas "$CAS_ADDR" --without-batch-reads
diff_json plain API_USER=batch
cmp -s "$work/batch.json" "$work/plain.json" || fail "diff without batch reads differs: $(diff "$work/batch.json" "$work/plain.json" | head)"
[ "$rc" = 3 ] || fail "diff without batch reads: exit $rc"
step "without batch reads, diff gives the same answer"
echo "$test_name: passed"
