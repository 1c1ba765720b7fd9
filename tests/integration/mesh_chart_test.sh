#!/usr/bin/env bash
# The generated Helm charts against the real tools: `helm lint --strict`, `helm template`, and the
# Kubernetes schemas (kubernetes-validate --strict). Also checks that `-o yaml`'s plain manifests
# are what Helm renders, that hard-to-quote values survive rendering unchanged, and that no
# secret reaches the chart, the manifests or the output.
#   tests/integration/mesh_chart_test.sh SCONECTL_BINARY
# Exit 125 (skipped) when helm or kubernetes-validate cannot be installed, except in CI.
set -euo pipefail
sconectl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
test_name=mesh_chart_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"

tools=$("$root/scripts/infra/chart-tools.sh" 2>"$work/tools.log") || skip_or_fail "cannot install helm or kubernetes-validate: $(tail -n 5 "$work/tools.log")"
eval "$tools"
# PyYAML comes with kubernetes-validate; use its interpreter.
python=$(dirname "$KUBERNETES_VALIDATE")/python3
[ -x "$python" ] || python=python3
k8s_version=${KUBERNETES_VERSION:-1.31.0}

# check_chart CHART_DIR RELEASE MANIFESTS_DIR: lint, render, validate, compare with our manifests.
check_chart() {
  local chart=$1 release=$2 manifests=$3 rendered
  rendered="$work/$release-rendered.yaml"
  "$HELM" lint --strict "$chart" >"$work/lint.log" 2>&1 || { cat "$work/lint.log" >&2; fail "helm lint --strict $chart"; }
  "$HELM" template "$release" "$chart" >"$rendered" 2>"$work/template.log" || { cat "$work/template.log" >&2; fail "helm template $chart"; }
  "$KUBERNETES_VALIDATE" --strict --quiet -k "$k8s_version" "$rendered" >"$work/validate.log" 2>&1 ||
    { cat "$work/validate.log" >&2; fail "kubernetes-validate rejects what $chart renders"; }
  "$python" - "$rendered" "$manifests" <<'PY' || fail "helm template $chart differs from $manifests"
import glob, os, sys, yaml
def objects(docs):
    found = {}
    for doc in docs:
        if not doc:
            continue
        for labels in (doc["metadata"].get("labels", {}),):
            labels.pop("helm.sh/chart", None)
            labels.pop("app.kubernetes.io/managed-by", None)
        found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found
helm = objects(yaml.safe_load_all(open(sys.argv[1])))
ours = objects(d for f in sorted(glob.glob(os.path.join(sys.argv[2], "*.yaml"))) for d in yaml.safe_load_all(open(f)))
if helm != ours:
    for key in sorted(set(helm) | set(ours)):
        if helm.get(key) != ours.get(key):
            print("differs:", key, "\n helm:", helm.get(key), "\n ours:", ours.get(key), file=sys.stderr)
    sys.exit(1)
PY
}

# 1. The golden charts, as the generator writes them (the unit tests pin them byte for byte).
for case_dir in "$root"/tests/golden/mesh/*/; do
  expected="$case_dir/expected"
  release=$(sed -n 's/^name: "\(.*\)"$/\1/p' "$expected/helm/Chart.yaml")
  check_chart "$expected/helm" "$release" "$expected/manifests"
done
# A value with a colon, quotes, a newline and "{{" reaches the object unchanged.
"$HELM" template shop "$root/tests/golden/mesh/three-services/expected/helm" >"$work/shop.yaml"
"$python" - "$work/shop.yaml" <<'PY' || fail "the hostile annotation did not survive helm template"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Deployment"]
backend = next(d for d in docs if d["metadata"]["name"] == "shop-backend")
note = backend["spec"]["template"]["metadata"]["annotations"]["example.com/note"]
expected = 'colon: here, quote " and {{ .Values.trap }}\nsecond line'
assert note == expected, repr(note)
assert backend["spec"]["replicas"] == 2
PY

# 2. The binary on a generated mesh of 25 services, with a release name.
python3 "$root/bench/gen_mesh.py" "$work/mesh" 25
(cd "$work/mesh" && "$sconectl" apply -f mesh.yaml --dry-run -o yaml --release demo-rel >"$work/apply.out" 2>"$work/apply.err") ||
  { cat "$work/apply.err" >&2; fail "sconectl apply -f mesh.yaml --dry-run -o yaml"; }
check_chart "$work/mesh/target/helm" demo-rel "$work/mesh/target/manifests"
[ "$(find "$work/mesh/target/policies" -name '*.yaml' | wc -l)" = 26 ] || fail "expected 26 policy files (namespace + 25)"

# 3. Secrets: explicit values and $$SCONE:: references only in the policies.
if grep -rl -e 'explicit-token-4242' -e '\$\$SCONE::' "$root/tests/golden/mesh/three-services/expected/helm" "$root/tests/golden/mesh/three-services/expected/manifests"; then
  fail "a secret or secret reference reached the chart"
fi
grep -q 'explicit-token-4242' "$root/tests/golden/mesh/three-services/expected/policies/shop-4711/backend.yaml" || fail "the explicit value is missing from its policy"
if grep -rl -e '\$\$SCONE::' -e 'bench-user' "$work/mesh/target/helm" "$work/mesh/target/manifests" "$work/apply.out" "$work/apply.err"; then
  fail "a secret reference or program setting reached the chart, the manifests or the output"
fi
echo "mesh_chart_test: ok"
