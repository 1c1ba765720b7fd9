#!/usr/bin/env bash
# The CI examples (examples/ci/) run by real local runners (scripts/infra/ci-runners.sh):
# gitlab-ci-local runs examples/ci/gitlab-ci.yml (shell executor, the manual deploy job included)
# and act runs examples/ci/github-workflow.yml (-self-hosted platform), each on a copy of the
# hello-world example with sconectl.sh, against the local registry (TLS, password) and a local CAS.
# Every step runs sconectl from the CI image built from this build directory. Checks: every job
# passes; the sessions are created on the CAS; the chart is published and the plan kept; the
# registry password and the CAS identity appear in no artifact.
#   tests/integration/ci_examples_test.sh BUILD_DIRECTORY
# Exit codes: 0 passed, 1 failed, 125 skipped (a component cannot start here; never in CI).
set -euo pipefail
build=$(cd "$1" && pwd)
sconectl=$build/src/sconectl
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
test_name=ci_examples_test
# shellcheck source=lib.sh
source "$root/tests/integration/lib.sh"
ci_image="sconectl-ci-examples:$$"
trap 'stop_cas -KILL; docker image rm "$ci_image" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
logs="$work/logs"
mkdir -p "$logs"

start_infra
runners=$("$root/scripts/infra/ci-runners.sh" 2>"$work/runners.log") ||
  skip_or_fail "no local CI runners: $(tail -5 "$work/runners.log")"
eval "$runners"
start_cas
step "Docker Engine, registry $REGISTRY, local CAS $CAS_ADDR; gitlab-ci-local $GITLAB_CI_LOCAL, act $ACT"
"$root/scripts/ci-image.sh" "$build" "$ci_image" >/dev/null 2>"$work/ci-image.log" ||
  fail "scripts/ci-image.sh: $(tail -5 "$work/ci-image.log")"

# The pipeline's secrets: a CAS client identity and the registry password.
SCONECTL_CAS_CONFIG="$work/identity" "$sconectl" self show-key-hash >/dev/null
identity="$work/identity/config.json"
registry_password=$(cat "$REGISTRY_PASSWORD_FILE")

# project NAME: a git repository with the example, sconectl.sh and the CI files, as a user has it.
project() {
  local dir="$work/$1"
  mkdir -p "$dir/.github/workflows"
  cp "$root/examples/hello-world/"{service.yaml,mesh.yaml,greet.py,requirements.txt} "$dir/"
  cp "$root/examples/ci/sconectl.sh" "$dir/"
  cp "$root/examples/ci/gitlab-ci.yml" "$dir/.gitlab-ci.yml"
  cp "$root/examples/ci/github-workflow.yml" "$dir/.github/workflows/sconectl.yml"
  printf '.gitlab-ci-local/\n' >"$dir/.gitignore"
  git -C "$dir" init -q -b main
  git -C "$dir" add -A
  git -C "$dir" -c user.email=ci@example.com -c user.name=ci commit -q -m "the service"
  echo "$dir"
}

# on_cas NAMESPACE API_USER: the CAS holds the service's session with that API_USER.
on_cas() {
  SCONECTL_CAS_CONFIG="$work/identity" "$sconectl" session get "$1/hello-user" --cas "$CAS_ADDR" --cas-key "$CAS_KEY" \
    >"$logs/$1.session" 2>&1 || fail "the CAS does not hold $1/hello-user: $(cat "$logs/$1.session")"
  grep -q "API_USER: \"$2\"" "$logs/$1.session" || fail "$1/hello-user has not API_USER $2: $(cat "$logs/$1.session")"
}

# no_secrets DIR: neither the registry password nor the identity's key is in DIR.
no_secrets() {
  local key_line
  key_line=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identity"].splitlines()[1])' "$identity")
  if grep -rlaF -e "$registry_password" -e "$key_line" -- "$@" >"$work/found"; then
    fail "a credential in $(sed -n 1,3p "$work/found" | tr '\n' ' ')"
  fi
}

common=(SCONECTL_IMAGE="$ci_image" BASE_IMAGE="$base_image" REGISTRY_USER="$REGISTRY_USER"
  REGISTRY_PASSWORD="$registry_password" CAS_ADDR="$CAS_ADDR" CAS_KEY="$CAS_KEY")

# --- GitLab CI: every job, the manual deploy included
gitlab=$(project gitlab)
namespace="ci-gitlab-$$"
gitlab_vars=()
for pair in "${common[@]}" APP_IMAGE_REPO="$REGISTRY/sconectl-ci-gitlab-$$" APP_NAMESPACE="$namespace" \
  API_USER=gitlab-user SCONECTL_CAS_IDENTITY="$identity"; do
  gitlab_vars+=(--variable "$pair")
done
step "gitlab-ci-local: .gitlab-ci.yml from examples/ci/gitlab-ci.yml"
(cd "$gitlab" && "$GITLAB_CI_LOCAL" --manual deploy "${gitlab_vars[@]}") >"$logs/gitlab.log" 2>&1 ||
  { tail -n 40 "$logs/gitlab.log" >&2; fail "the GitLab pipeline failed (above)"; }
for job in validate build plan deploy; do
  grep -q "PASS .*$job" "$logs/gitlab.log" || { tail -n 30 "$logs/gitlab.log" >&2; fail "job $job did not pass"; }
done
[ -f "$gitlab/target/helm/Chart.yaml" ] || fail "the GitLab pipeline published no chart"
if compgen -G "$gitlab/.sconectl-*" >/dev/null; then fail "a job left its credentials behind: $(ls -d "$gitlab"/.sconectl-*)"; fi
[ -s "$gitlab/plan.json" ] && [ -s "$gitlab/diff.json" ] || fail "the GitLab pipeline kept no plan"
[ "$(json_field "$gitlab/apply.json" '" ".join(s["name"] + ":" + s["action"] for s in d["uploaded"])')" = \
  "$namespace:created $namespace/hello-user:created" ] || fail "the deploy job did not create both sessions: $(cat "$gitlab/apply.json")"
on_cas "$namespace" gitlab-user
no_secrets "$gitlab/target/helm" "$gitlab/target/services" "$gitlab/plan.json" "$gitlab/diff.json" "$gitlab/apply.json" "$logs/gitlab.log"
step "GitLab: validate, build, plan and the manual deploy passed; sessions of $namespace created; chart published"

# --- GitHub Actions with act, on this machine (the -self-hosted platform)
github=$(project github)
namespace="ci-github-$$"
act_args=(workflow_dispatch -W .github/workflows/sconectl.yml -P ubuntu-latest=-self-hosted)
for pair in REGISTRY_USER="$REGISTRY_USER" API_USER=github-user CAS_ADDR="$CAS_ADDR" CAS_KEY="$CAS_KEY"; do
  act_args+=(--var "$pair")
done
chart_repo="$REGISTRY/sconectl-ci-github-$$-charts"
act_args+=(-s REGISTRY_PASSWORD="$registry_password" -s SCONECTL_CAS_IDENTITY="$(cat "$identity")"
  --env SCONECTL_IMAGE="$ci_image" --env BASE_IMAGE="$base_image"
  --env APP_IMAGE_REPO="$REGISTRY/sconectl-ci-github-$$" --env APP_NAMESPACE="$namespace"
  --env CHART_REPO="$chart_repo" --env REGISTRY_CA_FILE="$REGISTRY_CA")
# helm, as GitHub's runners have it (scripts/infra/chart-tools.sh builds it when missing).
eval "$("$root/scripts/infra/chart-tools.sh" helm 2>"$work/helm.log")" || fail "no helm: $(tail -3 "$work/helm.log")"
step "act: .github/workflows/sconectl.yml from examples/ci/github-workflow.yml"
(cd "$github" && PATH="$(dirname "$HELM"):$PATH" XDG_CACHE_HOME="$work/act-cache" XDG_CONFIG_HOME="$work/act-config" \
  "$ACT" "${act_args[@]}") \
  >"$logs/act.log" 2>&1 || { tail -n 40 "$logs/act.log" >&2; fail "the GitHub workflow failed under act (above)"; }
grep -q "Job succeeded" "$logs/act.log" || { tail -n 30 "$logs/act.log" >&2; fail "act reports no succeeded job"; }
for name in Validate "Build, measure and push the image" "Plan (exit code 3 means changes)" \
  "Upload the plan to the CAS" "Publish the chart (OCI, to the registry)"; do
  grep -qF "Success - Main $name" "$logs/act.log" || { tail -n 30 "$logs/act.log" >&2; fail "step '$name' did not succeed"; }
done
on_cas "$namespace" github-user
# (act.log is not scanned: act prints every -s secret as ***, so a scan there could not fail.)
# act's workspace is gone with the job: the chart's version is the one the GitLab run made.
chart=$namespace  # the chart is named after the mesh's namespace
version=$(awk '$1 == "version:" { print $2 }' "$gitlab/target/helm/Chart.yaml")
version=${version//\"/}
tags=$(curl -fsS --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$registry_password" \
  "https://$REGISTRY/v2/${chart_repo#"$REGISTRY"/}/$chart/tags/list") || fail "the chart $chart is not in the registry"
grep -q "\"$version\"" <<<"$tags" || fail "the registry has no version $version of the chart: $tags"
step "GitHub Actions (act): every step passed; sessions of $namespace created; chart $chart $version in $chart_repo"
step passed
