#!/usr/bin/env bash
# The tutorial's step 3 and its kubectl checks on a real single-node Kubernetes
# (scripts/infra/kubernetes.sh), with the simulation runtime (no SGX):
#  - `helm install` of the hello-world chart: the Deployment becomes available and `kubectl logs`
#    shows the greeting with the checksum of the password the CAS generated;
#  - `kubectl exec <pod> -- sh -c 'echo $API_PASSWORD'` prints nothing, and the shell (no
#    CAP_SYS_PTRACE) can neither read /proc/1/environ nor find the password under /proc;
#  - `kubectl set env ... API_PASSWORD=incorrect_pw API_USER=incorrect_user` gives a new pod with
#    the same user and checksum;
#  - a changed program pushed under the same tag makes the restarted pod fail attestation (its log
#    shows the MRENCLAVE message and it is not Ready);
#  - version 2 deploys with `helm upgrade`; the version-1 image pushed as tag 2 fails;
#  - every object of every golden chart passes the real kube-apiserver's server-side dry run;
#  - a three-service mesh (db exports a CAS-generated secret that backend imports) deploys, and the
#    services reach each other by the chart's Service names (kube-proxy and cluster DNS);
#  - `sconectl verify` of the release: clean after install; then each attack above is reported
#    with its finding (extra environment, a pod refused with its measurement, another image); a
#    session updated outside this target directory is reported; an evidence bundle checks again
#    offline and one changed byte in it is refused; no password in any output or bundle;
#  - `helm uninstall` leaves nothing behind in the namespace.
#   tests/integration/kubernetes_test.sh SCONECTL_BINARY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=kubernetes_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
release="hello-$$"
k8s_namespace="sconectl-test-$$"
cleanup() {
  if [ -n "${HELM:-}" ] && [ -n "${KUBECONFIG:-}" ]; then
    "$HELM" uninstall "$release" -n "$k8s_namespace" >/dev/null 2>&1 || true
    "$KUBECTL" delete namespace "$k8s_namespace" --wait=false >/dev/null 2>&1 || true
  fi
  stop_cas -KILL
  rm -rf "$work"
}
trap cleanup EXIT

for tool in sqlite3 md5sum; do command -v "$tool" >/dev/null || skip_or_fail "$tool is not installed"; done
start_infra
k8s_env=$("$root/scripts/infra/kubernetes.sh" --print-env 2>"$work/kubernetes.log") ||
  skip_or_fail "no local Kubernetes: $(tail -5 "$work/kubernetes.log")"
eval "$k8s_env"
export KUBECONFIG
helm_env=$("$root/scripts/infra/chart-tools.sh" helm 2>"$work/helm.log") ||
  skip_or_fail "no helm: $(tail -3 "$work/helm.log")"
eval "$helm_env"
kubectl() { "$KUBECTL" -n "$k8s_namespace" "$@"; }
# On a failure, what the cluster looked like: the pods and the namespace's latest events.
fail_with_cluster() {
  echo "$test_name: pods and events in $k8s_namespace:" >&2
  "$KUBECTL" -n "$k8s_namespace" get pods -o wide >&2 2>&1 || true
  "$KUBECTL" -n "$k8s_namespace" get events --sort-by=.lastTimestamp 2>&1 | tail -n 15 >&2 || true
  fail "$@"
}
# The CAS listens where pods reach the host: the pod bridge's address.
start_cas "$K8S_NODE_IP:0"
step "Kubernetes up (node address $K8S_NODE_IP), registry $REGISTRY, local CAS $CAS_ADDR"

export SCONECTL_CAS_CONFIG="$work/client" CAS_ADDR CAS_KEY
export APP_IMAGE_REPO="$REGISTRY/sconectl-k8s-$$" APP_NAMESPACE="k8s-$$"
export APP_TOLERATE="outdated-tcb, software-hardening-needed, simulation"
unset API_USER
session="$APP_NAMESPACE/hello-user"
printf 'base_images:\n  python: %s\n' "$base_image" >"$work/config.yaml"
cp -r "$root/examples/hello-world" "$work/app"
cd "$work/app"
logs="$work/logs"
mkdir -p "$logs"
run service apply -f service.yaml --config "$work/config.yaml" --runtime sim
run mesh apply -f mesh.yaml --mode debug --release "$release"
image="$APP_IMAGE_REPO/hello-user"
docker tag "$image:1" "$image:version-1"

# As the tutorial's `sconeapps` secret: the registry's password for pulling.
"$KUBECTL" create namespace "$k8s_namespace" >/dev/null
kubectl create secret docker-registry sconeapps --docker-server="$REGISTRY" \
  --docker-username="$REGISTRY_USER" --docker-password="$(cat "$REGISTRY_PASSWORD_FILE")" >/dev/null
# The service access token: a Secret outside the chart, written by apply.
kubectl apply -f target/k8s-secrets/ >"$logs/access-secret.log" 2>&1 || fail_with_cluster "kubectl apply -f target/k8s-secrets/: $(cat "$logs/access-secret.log")"
"$HELM" install "$release" target/helm -n "$k8s_namespace" --wait --timeout 180s >"$logs/helm-install.log" 2>&1 ||
  fail_with_cluster "helm install: $(tail -5 "$logs/helm-install.log"); pods: $(kubectl get pods -o wide 2>&1 | tail -3)"
# verify_release NAME [ARGS...]: `sconectl verify` of the hello-world release in the cluster (JSON
# in $logs/verify-NAME.json, exit code in $vrc).
verify_release() {
  local name=$1; shift
  vrc=0
  "$sconectl" --format json verify -f mesh.yaml --mode debug --release "$release" --kubeconfig "$KUBECONFIG" \
    --namespace "$k8s_namespace" --kubectl "$KUBECTL" "$@" >"$logs/verify-$name.json" 2>"$logs/verify-$name.err" || vrc=$?
}
# expect_findings NAME RC [KIND...] [-- VERIFY_ARGS...]: verify exited RC and reported (at least)
# these error kinds.
expect_findings() {
  local name=$1 want_rc=$2; shift 2
  local kinds=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do kinds+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  verify_release "$name" "$@"
  set -- "${kinds[@]}"
  [ "$vrc" = "$want_rc" ] || fail_with_cluster "verify $name: exit $vrc, expected $want_rc: $(cat "$logs/verify-$name.err") $(cat "$logs/verify-$name.json")"
  python3 - "$logs/verify-$name.json" "$@" <<'PY' || fail_with_cluster "verify $name: $(cat "$logs/verify-$name.json")"
import json, sys
d = json.load(open(sys.argv[1]))
errors = {f["kind"] for f in d["findings"] if f["severity"] == "error"}
missing = set(sys.argv[2:]) - errors
assert not missing, "missing error findings %s; got %s" % (sorted(missing), sorted(errors))
PY
  step "verify $name: exit $vrc${*:+, reports $*}"
}
pod=$(kubectl get pods -o jsonpath='{.items[0].metadata.name}')
step "helm install: the Deployment is available, pod $pod"

password=$(sqlite3 "$cas_data/cas.db" "select value from secrets where session = '$session' and name = 'api_password'")
checksum=$(printf '%s' "$password" | md5sum | cut -d' ' -f1)
pod_log() { # pod_log POD: its log once the program printed its checksum (or after 60 s)
  for _ in $(seq 120); do
    kubectl logs "$1" 2>/dev/null | grep "checksum" >/dev/null && break
    sleep 0.5
  done
  kubectl logs "$1" 2>&1
}
pod_log "$pod" >"$logs/pod.log"
grep -qx "Hello, 'myself' - thanks for passing along the API_PASSWORD" "$logs/pod.log" ||
  fail_with_cluster "kubectl logs: $(cat "$logs/pod.log")"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod.log" || fail_with_cluster "the checksum is not the CAS's: $(cat "$logs/pod.log")"
step "kubectl logs: the greeting and the checksum of the CAS's password"
expect_findings installed 0
[ "$(json_field "$logs/verify-installed.json" 'd["checked"]["pods"]')" -ge 1 ] || fail_with_cluster "verify checked no pod: $(cat "$logs/verify-installed.json")"

# The session updated by another identity, as another administrator would: the owner grants a
# second client key read and update rights, and that client changes API_USER and adds a
# toleration. (Not debug-mode: this deployment runs in debug mode with the simulation runtime, so
# its session tolerates debug-mode already; integration.verify adds debug-mode to a production
# session.) verify names the changes (the toleration as weaker attestation, the grant as wider
# access) and both versions this target directory did not upload, and shows no value; apply then
# puts the approved version back.
other_client="$work/other-client"
other_hash=$(SCONECTL_CAS_CONFIG="$other_client" "$sconectl" self show-key-hash | sed -n 1p)
[ -n "$other_hash" ] || fail "self show-key-hash of the second identity"
[ "$other_hash" != "$("$sconectl" self show-key-hash | sed -n 1p)" ] || fail "the second identity is the first one"
"$sconectl" session get "$session" >"$work/granted.yaml" || fail "session get"
python3 "$root/tests/integration/edit_session.py" "$work/granted.yaml" --grant "$other_hash" || fail "granting the second identity"
"$sconectl" session update "$work/granted.yaml" >/dev/null 2>"$logs/session-grant.err" || fail "session update (grant): $(cat "$logs/session-grant.err")"
SCONECTL_CAS_CONFIG="$other_client" "$sconectl" session get "$session" >"$work/theirs.yaml" 2>"$logs/theirs-get.err" ||
  fail "the second identity cannot read the session it was granted: $(cat "$logs/theirs-get.err")"
python3 "$root/tests/integration/edit_session.py" "$work/theirs.yaml" --env API_USER=mallory --tolerate hyperthreading || fail "editing as the second identity"
SCONECTL_CAS_CONFIG="$other_client" "$sconectl" session update "$work/theirs.yaml" >/dev/null 2>"$logs/theirs-update.err" ||
  fail "session update by the second identity: $(cat "$logs/theirs-update.err")"
expect_findings session-updated 3 session-differs
python3 - "$logs/verify-session-updated.json" "$session" "$other_hash" <<'PY' || fail "verify does not name the other identity's changes: $(cat "$logs/verify-session-updated.json")"
import json, sys
d = json.load(open(sys.argv[1]))
session = sys.argv[2]
differs = [f for f in d["findings"] if f["kind"] == "session-differs" and f["subject"] == session]
assert differs, "no session-differs for " + session
details = "\n".join(differs[0]["details"])
assert "hyperthreading" in details and "[toleration-added]" in details, details
assert details.count("[access-widened]") == 2 and sys.argv[3] in details, details
assert "mallory" not in json.dumps(d), "a value of the session in verify's report"
foreign = [f for f in d["findings"] if f["kind"] == "foreign-version" and f["subject"].startswith(session)]
assert len(foreign) >= 2, "the grant and their update are both versions this target did not upload: %s" % foreign
PY
step "verify after another identity's update: session-differs (toleration-added, access-widened), 2 foreign versions, no value"
run restore apply -f mesh.yaml --mode debug --release "$release" --force-conflicts
expect_findings restored 0

seen=$(kubectl exec "$pod" -- sh -c 'echo "[$API_PASSWORD]"') || fail_with_cluster "kubectl exec $pod"
[ "$seen" = "[]" ] || fail_with_cluster "kubectl exec sees API_PASSWORD"
step "kubectl exec: API_PASSWORD is empty"
if kubectl exec "$pod" -- cat /proc/1/environ >"$logs/environ.out" 2>&1; then
  fail_with_cluster "kubectl exec reads the program's /proc/1/environ"
fi
grep -q "Permission denied" "$logs/environ.out" || fail_with_cluster "reading /proc/1/environ: $(cat "$logs/environ.out")"
# grep exits 1 when it finds nothing and 2 on unreadable files (expected: the program's are
# closed); `timeout` runs the kubectl binary, so the namespace is given here. The control: the
# same scan finds the pod's name, which the exec'd shell holds in its environment (HOSTNAME).
grep_proc() {
  printf '%s\n' "$1" | timeout 120 "$KUBECTL" -n "$k8s_namespace" exec -i "$pod" -- \
    sh -c 'grep -rlsF --exclude=pagemap --exclude=mem -f /dev/stdin /proc/[0-9]*; echo "exit $?"'
}
found=$(grep_proc "$password") || fail_with_cluster "kubectl exec $pod (grep of /proc)"
[[ $found =~ exit\ [12]$ ]] || fail_with_cluster "grep of /proc in the pod did not run: $found"
[ "$found" = "${found##*/proc/}" ] || fail_with_cluster "grep -r finds the password under /proc in the pod: $found"
control=$(grep_proc "$pod") || fail_with_cluster "kubectl exec $pod (grep of /proc, control)"
[[ $control == */proc/*/environ* ]] || fail_with_cluster "the control failed: grep of /proc does not find the pod's name: $control"
step "kubectl exec: /proc/1/environ is closed (non-dumpable program); grep -r of /proc finds no password"

deployment=$(kubectl get deployments -o jsonpath='{.items[0].metadata.name}')
kubectl set env "deployment/$deployment" API_PASSWORD=incorrect_pw API_USER=incorrect_user >/dev/null
kubectl rollout status "deployment/$deployment" --timeout=180s >/dev/null || fail_with_cluster "the rollout after set env did not finish"
pod=$(kubectl get pods --field-selector=status.phase=Running --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}')
pod_log "$pod" >"$logs/pod-env.log"
grep -q "Hello, 'myself' - thanks" "$logs/pod-env.log" || fail_with_cluster "API_USER from the Deployment won: $(cat "$logs/pod-env.log")"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-env.log" || fail_with_cluster "API_PASSWORD from the Deployment won"
step "kubectl set env API_PASSWORD=incorrect_pw API_USER=incorrect_user: same user, same checksum"
expect_findings set-env 3 extra-environment -- --evidence "$work/bundle"
grep -q "API_PASSWORD, API_USER" "$logs/verify-set-env.json" || fail "verify does not name the variables: $(cat "$logs/verify-set-env.json")"
rc=0
"$sconectl" --format json verify -f mesh.yaml --mode debug --offline "$work/bundle" >"$logs/verify-offline.json" 2>"$logs/verify-offline.err" || rc=$?
[ "$rc" = 3 ] || fail "offline verify: exit $rc: $(cat "$logs/verify-offline.err")"
cmp -s "$logs/verify-set-env.json" "$logs/verify-offline.json" || fail "the offline report differs: $(diff "$logs/verify-set-env.json" "$logs/verify-offline.json" | head)"
sed -i '0,/"ready": true/s//"ready": false/' "$work/bundle/cluster.json"
rc=0
"$sconectl" verify -f mesh.yaml --mode debug --offline "$work/bundle" >/dev/null 2>"$logs/verify-tampered.err" || rc=$?
[ "$rc" = 2 ] && grep -q "cluster.json: changed since" "$logs/verify-tampered.err" || fail "a changed bundle: exit $rc: $(cat "$logs/verify-tampered.err")"
step "evidence bundle: offline, the same report; one changed byte refused"

printf 'print("changed")\n' >>greet.py
run changed apply -f service.yaml --config "$work/config.yaml" --runtime sim
kubectl delete pod "$pod" --wait=false >/dev/null 2>&1 || true
# expect_refused_pod TAG: the Deployment, pointed at TAG (pulled anew), gets a pod that fails
# attestation and is not Ready.
expect_refused_pod() {
  kubectl patch "deployment/$deployment" -p '{"spec":{"template":{"spec":{"containers":[{"name":"hello-user","imagePullPolicy":"Always","image":"'"$image:$1"'"}]}}}}' >/dev/null
  local refused="" p
  # The log is kept as read: the container restarts, and a second read may find it gone.
  for _ in $(seq 240); do
    for p in $(kubectl get pods -o jsonpath='{.items[*].metadata.name}'); do
      kubectl logs "$p" >"$logs/refused-$1.log" 2>/dev/null || continue
      if grep "Unexpected enclave measurement (MRENCLAVE" "$logs/refused-$1.log" >/dev/null; then refused=$p; break 2; fi
    done
    sleep 0.5
  done
  [ -n "$refused" ] || fail_with_cluster "no pod failed attestation with tag $1: $(kubectl get pods 2>&1)"
  grep -q "Attestation failed" "$logs/refused-$1.log" || fail_with_cluster "no 'Attestation failed' in $(cat "$logs/refused-$1.log")"
  # Between restarts the container runs for a moment (no readiness probe: running is ready), so
  # wait for the settled state: not Ready, the program exited non-zero.
  local state=""
  for _ in $(seq 60); do
    state=$(kubectl get pod "$refused" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].lastState.terminated.exitCode}{.status.containerStatuses[0].state.terminated.exitCode}')
    [[ $state =~ ^False\ [1-9] ]] && return 0
    sleep 0.5
  done
  fail_with_cluster "the pod that failed attestation did not settle as not Ready with a failed program: '$state'"
}
expect_refused_pod 1
step "a changed program under the same tag: the pod fails attestation and is not Ready"
expect_findings changed-program 3 measurement-not-admitted deployment-image

# Version 2: the changed program under tag 2, the mesh applied, the chart upgraded.
export APP_TAG=2
run service-2 apply -f service.yaml --config "$work/config.yaml" --runtime sim
run mesh-2 apply -f mesh.yaml --mode debug --release "$release"
"$HELM" upgrade "$release" target/helm -n "$k8s_namespace" --wait --timeout 180s >"$logs/helm-upgrade.log" 2>&1 ||
  fail_with_cluster "helm upgrade: $(tail -5 "$logs/helm-upgrade.log"); pods: $(kubectl get pods 2>&1 | tail -3)"
kubectl rollout status "deployment/$deployment" --timeout=180s >/dev/null || fail_with_cluster "the upgrade did not roll out"
pod=$(kubectl get pods --field-selector=status.phase=Running --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}')
pod_log "$pod" >"$logs/pod-v2.log"
grep -qx "The checksum of API_PASSWORD is $checksum" "$logs/pod-v2.log" || fail_with_cluster "version 2 did not run: $(cat "$logs/pod-v2.log")"
docker tag "$image:version-1" "$image:2"
docker push -q "$image:2" >/dev/null
expect_refused_pod 2
step "helm upgrade to version 2 runs; the version-1 image pushed as tag 2 fails attestation"
expect_findings retagged 3 measurement-not-admitted pod-image-digest deployment-image

# The real API server checks every object of every golden chart (server-side dry run).
for chart in "$root"/tests/golden/mesh/*/expected/helm; do
  "$HELM" template "golden-$(basename "$(dirname "$(dirname "$chart")")")" "$chart" >"$work/golden.yaml" ||
    fail_with_cluster "helm template $chart"
  kubectl apply --dry-run=server -f "$work/golden.yaml" >"$logs/dry-run.log" 2>&1 ||
    fail_with_cluster "server-side dry run of $chart: $(tail -5 "$logs/dry-run.log")"
done
step "every golden chart passes the kube-apiserver's server-side dry run"

# --- three services that call each other by their Service names
three="$work/three"
cp -r "$root/tests/data/mesh-three" "$three"
three_release="three-$$"
(
  cd "$three"
  export RELEASE=$three_release APP_NAMESPACE="three-$$" APP_TAG=1
  for service in db backend frontend; do
    run "three-$service" apply -f "$service.yaml" --config "$work/config.yaml" --runtime sim
  done
  run three-mesh apply -f mesh.yaml --mode debug --release "$three_release"
  kubectl apply -f target/k8s-secrets/ >"$logs/three-secret.log" 2>&1 || fail_with_cluster "kubectl apply -f target/k8s-secrets/: $(cat "$logs/three-secret.log")"
  "$HELM" install "$three_release" target/helm -n "$k8s_namespace" --wait --timeout 300s >"$logs/helm-three.log" 2>&1 ||
    fail_with_cluster "helm install of the three services: $(tail -5 "$logs/helm-three.log"); $(kubectl get pods 2>&1 | tail -4)"
)
frontend=$(kubectl get pods -o name | grep "$three_release-frontend" | sed -n 1p)
answer=""
for _ in $(seq 180); do
  answer=$(kubectl logs "$frontend" 2>/dev/null | grep "^frontend:" || true)
  [ -n "$answer" ] && break
  sleep 0.5
done
[ "$answer" = "frontend: the backend says the database password is the same one" ] ||
  fail_with_cluster "three services: '$answer'; logs: $(for p in $(kubectl get pods -o name | grep "$three_release"); do kubectl logs "$p" 2>&1 | tail -3; done)"
rc=0
(cd "$three" && APP_NAMESPACE="three-$$" APP_TAG=1 RELEASE=$three_release "$sconectl" --format json verify -f mesh.yaml --mode debug \
  --release "$three_release" --kubeconfig "$KUBECONFIG" --namespace "$k8s_namespace" --kubectl "$KUBECTL" >"$logs/verify-three.json" 2>"$logs/verify-three.err") || rc=$?
[ "$rc" = 0 ] || fail_with_cluster "verify of the three services: exit $rc: $(cat "$logs/verify-three.err") $(cat "$logs/verify-three.json")"
[ "$(json_field "$logs/verify-three.json" 'd["checked"]["deployments"]')" = 3 ] || fail "verify of the three services: $(cat "$logs/verify-three.json")"
step "verify of the three services: verified, 3 deployments"
"$HELM" uninstall "$three_release" -n "$k8s_namespace" --wait >/dev/null
step "three services: db exports its password to backend; frontend -> backend -> db by Service name"

"$HELM" uninstall "$release" -n "$k8s_namespace" --wait >/dev/null
kubectl delete secret sconeapps >/dev/null
# The access-token Secrets are not part of the chart: helm uninstall leaves them, as it should.
kubectl delete --ignore-not-found -f "$work/app/target/k8s-secrets/" -f "$three/target/k8s-secrets/" >/dev/null
for _ in $(seq 240); do [ -z "$(kubectl get pods -o name 2>/dev/null)" ] && break; sleep 0.5; done
left=$(kubectl get all,secrets -o name 2>/dev/null | grep -v '^secret/default-token' || true)
[ -z "$left" ] || fail_with_cluster "helm uninstall left: $left"
step "helm uninstall leaves nothing behind"
# Neither the password nor its checksum in any verify output or bundle; the control: the scan
# finds the greeting's checksum in the pod log kept above.
grep -q "$checksum" "$logs/pod.log" || fail "the control failed: no checksum in the pod log"
if grep -rlF -e "$password" -e "$checksum" "$logs"/verify-* "$work/bundle"; then
  fail "the password or its checksum appears in verify's output or bundle (above)"
fi
step "no password in any verify output or bundle"
echo "$test_name: passed"
