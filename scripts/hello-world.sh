#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as the public tutorial's run.sh does it: installs what
# is missing, builds sconectl, starts a local Docker Engine, a local registry (TLS, password) and a
# local CAS when none is given, makes a local Python base image, and runs sconectl on the bundled
# example (examples/hello-world): validate the manifests, build, measure and push the image with
# the simulation runtime (--runtime sim), generate the mesh's CAS policies and Helm chart, upload
# the policies to the CAS over mutual TLS, start the container with the environment the chart
# gives its pod (the runtime attests to the CAS and the program receives its password), and
# check the chart with helm.
# SIMULATION: there is no SGX here. The runtime computes and reports its measurement itself and
# nothing protects the program's memory from the host: this shows the protocol, not the protection.
# Re-running it is fast: nothing is rebuilt or uploaded when nothing changed.
#
# Usage: scripts/hello-world.sh [OPTIONS]
#   --image-repo REPO   push the image to REPO instead of the local registry (be logged in to it)
#   --cas HOST[:PORT]   upload to this CAS instead of a local one (default port 8081)
#   --cas-key KEY       pin that CAS by its key hash (else it must be attested already:
#                       `sconectl cas attest HOST --cas-key KEY`)
#   --namespace NAME    the policy namespace (default hello-world-demo)
#   --release NAME      the Helm release name (default: the namespace)
#   --kubernetes        also run the chart as the tutorial's run.sh does: start a local single-node
#                       Kubernetes (scripts/infra/kubernetes.sh; the first run builds it, see
#                       docs/kubernetes.md), `helm upgrade --install`, wait for the pod, print its
#                       log. With KUBECONFIG set, that cluster is used instead (its nodes must
#                       reach the image registry and the CAS)
#   -h, --help          this text
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
example="$root/examples/hello-world"
state="${SCONECTL_INFRA_DIR:-/tmp/sconectl-infra}"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
image_repo="" cas="" cas_key="" namespace="hello-world-demo" release="" kubernetes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --image-repo | --cas | --cas-key | --namespace | --release)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "hello-world.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --image-repo) image_repo=$2 ;;
        --cas) cas=$2 ;;
        --cas-key) cas_key=$2 ;;
        --namespace) namespace=$2 ;;
        --release) release=$2 ;;
      esac
      shift 2 ;;
    --kubernetes) kubernetes=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "hello-world.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -n "$cas_key" ] && [ -z "$cas" ]; then
  echo "hello-world.sh: --cas-key pins the CAS given with --cas; the local CAS is pinned automatically" >&2
  exit 2
fi
release=${release:-$namespace}

step() { printf '\n==> %s\n' "$*"; }

# phase NAME: ends the running phase, recording how long it took, and starts NAME ("" ends the
# last one). The closing line sums them up: "build 6m12s, docker+registry 41s, ...".
timings=() phase_name="" phase_start=$SECONDS
duration() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }
phase() {
  [ -z "$phase_name" ] || timings+=("$phase_name $(duration $((SECONDS - phase_start)))")
  phase_name=$1 phase_start=$SECONDS
}
summary() {
  local IFS=,
  phase ""
  printf '%s' "${timings[*]}" | sed 's/,/, /g'
  printf ' (total %s)\n' "$(duration "$SECONDS")"
}

step "installing build dependencies"
phase "dependencies"
"$root/scripts/install-deps.sh"
# Only what this job runs: sconectl and the simulation runtime (scripts/test.sh builds the tests).
step "building sconectl and the simulation runtime (the compiler's progress: [done/total])"
phase "build"
SCONECTL_BUILD_TARGETS="sconectl sconectl-runtime-sim" "$root/scripts/build.sh" "$root/build/release"
sconectl="$root/build/release/src/sconectl"

step "starting a Docker Engine and a local registry (first run: installs docker.io, docker-registry)"
phase "docker+registry"
eval "$("$root/scripts/infra/docker.sh" --print-env)"
if [ -z "$image_repo" ]; then
  eval "$("$root/scripts/infra/registry.sh" --print-env)"
  export DOCKER_CONFIG
  image_repo="$REGISTRY/sconectl-demo"
fi
step "making the local Python base image (first run: debootstrap, a few minutes)"
phase "base image"
base_image=$("$root/scripts/infra/base-image.sh")
config="$state/sconectl-config.yaml"
printf 'base_images:\n  python: %s\n' "$base_image" >"$config"
export APP_IMAGE_REPO="$image_repo" APP_NAMESPACE="$namespace"
# The simulation runtime runs only for sessions that tolerate it, which production refuses.
export APP_TOLERATE="outdated-tcb, software-hardening-needed, simulation"

cas_host=127.0.0.1
if [ "$kubernetes" = 1 ] && [ -z "${KUBECONFIG:-}" ]; then
  step "starting a local Kubernetes (scripts/infra/kubernetes.sh; the first run builds it: see docs/kubernetes.md)"
  phase "kubernetes"
  eval "$("$root/scripts/infra/kubernetes.sh" --print-env)"
  export KUBECONFIG
  cas_host=$K8S_NODE_IP # where pods reach the host
fi
kubectl_bin=${KUBECTL:-kubectl}

if [ -z "$cas" ]; then
  step "starting a local CAS (sconectl cas serve: for development; it attests simulated programs only)"
  phase "cas"
  eval "$(SCONECTL_CAS_HOST=$cas_host "$root/scripts/infra/cas.sh" "$sconectl" --print-env)"
  cas=$CAS_ADDR
  cas_key=$CAS_KEY
fi
export CAS_ADDR="$cas" CAS_KEY="$cas_key"

cd "$example"
step "sconectl validate --strict -f service.yaml -f mesh.yaml"
phase "validate"
"$sconectl" validate --strict -f service.yaml -f mesh.yaml

step "sconectl apply -f service.yaml --config $config --runtime sim   (SIMULATION: no SGX)"
phase "image build+push"
"$sconectl" apply -f service.yaml --config "$config" --runtime sim

digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"]["digest"])' \
  target/services/hello-user.json)
step "sconectl apply -f mesh.yaml --mode debug --release $release   (CAS policies, Helm chart, upload to $cas)"
phase "policies+chart+upload"
"$sconectl" apply -f mesh.yaml -o yaml --mode debug --release "$release"

step "starting the image as its pod would: the runtime attests to $cas, then the program runs"
phase "run"
# The chart's pod environment (target/helm/values.yaml), and its memory volume as a tmpfs.
container="hello-user-$$"
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
# The session's service access token, from the Secret that apply wrote (passed by name, so it
# is not on a command line).
SCONE_SERVICE_ACCESS_TOKEN=$(sed -n 's/^  token: "\([0-9a-f]*\)"$/\1/p' \
  "target/k8s-secrets/$release-hello-user-sconectl-access.yaml")
export SCONE_SERVICE_ACCESS_TOKEN
docker run -d --name "$container" --network host --tmpfs /run/hello-user \
  -e "SCONE_CONFIG_ID=$namespace/hello-user/hello-user" -e "SCONE_CAS_ADDR=$cas" -e "SCONE_CAS_KEY=$cas_key" \
  -e SCONE_SERVICE_ACCESS_TOKEN "$APP_IMAGE_REPO/hello-user@$digest" >/dev/null
unset SCONE_SERVICE_ACCESS_TOKEN
for _ in $(seq 100); do
  docker logs "$container" 2>&1 | grep "checksum" >/dev/null && break
  [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || break
  sleep 0.1
done
docker logs "$container"
docker logs "$container" 2>/dev/null | grep "thanks for passing along the API_PASSWORD" >/dev/null ||
  { echo "hello-world.sh: the program did not receive its configuration from the CAS" >&2; exit 1; }
docker rm -f "$container" >/dev/null

step "sconectl session history $namespace/hello-user   (the chain of uploaded versions)"
"$sconectl" session history "$namespace/hello-user" --cas "$cas" ${cas_key:+--cas-key "$cas_key"}

step "checking the chart: helm lint --strict, helm template (helm is built with Go on first use)"
phase "helm check"
if helm_env=$("$root/scripts/infra/chart-tools.sh" helm 2>"$state/chart-tools.err"); then
  eval "$helm_env"
  "$HELM" lint --strict target/helm
  objects=$("$HELM" template "$release" target/helm | grep -c '^kind:')
  echo "helm template: $objects objects render"
else
  # The chart is written either way; only the check needs helm.
  echo "SKIPPED the helm check: $(tail -n 3 "$state/chart-tools.err")" >&2
fi

if [ "$kubernetes" = 1 ]; then
  [ -n "${HELM:-}" ] || { echo "hello-world.sh: --kubernetes needs helm: $(tail -n 3 "$state/chart-tools.err")" >&2; exit 1; }
  k8s_ns=$release
  step "helm upgrade --install $release target/helm --namespace $k8s_ns"
  phase "helm install"
  "$kubectl_bin" get namespace "$k8s_ns" >/dev/null 2>&1 || "$kubectl_bin" create namespace "$k8s_ns" >/dev/null
  if [ -n "${REGISTRY:-}" ]; then
    # As the tutorial's `sconeapps` secret: the local registry's password, for pulling.
    "$kubectl_bin" -n "$k8s_ns" create secret docker-registry sconeapps --docker-server="$REGISTRY" \
      --docker-username="$REGISTRY_USER" --docker-password="$(cat "$REGISTRY_PASSWORD_FILE")" \
      --dry-run=client -o yaml | "$kubectl_bin" -n "$k8s_ns" apply -f - >/dev/null
  fi
  # The service access token: a Secret outside the chart, which the pod takes it from.
  "$kubectl_bin" -n "$k8s_ns" apply -f target/k8s-secrets/ >/dev/null
  "$HELM" upgrade --install "$release" target/helm --namespace "$k8s_ns" --wait --timeout 300s
  pod=$("$kubectl_bin" -n "$k8s_ns" get pods --field-selector=status.phase=Running \
    --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}')
  step "kubectl logs $pod   (namespace $k8s_ns)"
  for _ in $(seq 120); do
    "$kubectl_bin" -n "$k8s_ns" logs "$pod" 2>/dev/null | grep "checksum" >/dev/null && break
    sleep 0.5
  done
  "$kubectl_bin" -n "$k8s_ns" logs "$pod"
  "$kubectl_bin" -n "$k8s_ns" logs "$pod" 2>/dev/null | grep "thanks for passing along the API_PASSWORD" >/dev/null ||
    { echo "hello-world.sh: the pod did not receive its configuration from the CAS" >&2; exit 1; }
fi

cat <<DONE

Done. The image is $APP_IMAGE_REPO/hello-user@$digest
  build context:       $example/target/build/hello-user/
  service descriptor:  $example/target/services/hello-user.json (measurement, digest)
  CAS policies:        $example/target/policies/ (mode 0600: they hold explicit secret values)
  uploaded to:         $cas (session hashes in $example/target/cas/sessions.json)
  Helm chart:          $example/target/helm/   (helm install $release target/helm)$([ "$kubernetes" = 1 ] && printf '\n  running in:          Kubernetes namespace %s (KUBECONFIG=%s)' "$release" "$KUBECONFIG")
  plain manifests:     $example/target/manifests/
  sconectl:            $sconectl

Time: $(summary)
DONE
