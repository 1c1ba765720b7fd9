#!/usr/bin/env bash
# Installs the tools that check generated Helm charts, when missing, and prints where they are:
#   helm                  go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (default v3.19.0;
#                         needs Go 1.24 or later when helm is not on PATH)
#   kubernetes-validate   PyPI, into a virtual environment (needs python3-venv)
#   scripts/infra/chart-tools.sh [helm]   ("helm": only helm, for the main job)
# Output (for eval): HELM=/path/to/helm and, unless "helm", KUBERNETES_VALIDATE=/path/to/it.
# Idempotent and quiet on success; a tool already on PATH is used as it is.
set -euo pipefail
# shellcheck source=scripts/infra/common.sh
source "$(dirname "$0")/common.sh"

HELM_VERSION="${HELM_VERSION:-v3.19.0}"
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.34.1}"
tools="$INFRA_DIR/tools"
mkdir -p "$tools"
take_lock chart-tools 1200

helm_bin="$(command -v helm || true)"
if [ -z "$helm_bin" ]; then
  helm_bin="$tools/bin/helm"
  if [ ! -x "$helm_bin" ]; then
    command -v go >/dev/null || die "helm is missing and so is Go to build it; put helm on PATH (https://helm.sh/docs/intro/install/) or install Go 1.24 or later."
    note "building helm $HELM_VERSION with go install (a few minutes the first time)"
    printf '%s: building helm %s with go install (a few minutes the first time; go -v names each package it compiles)\n' "$INFRA_SELF" "$HELM_VERSION" >&2
    : >"$tools/helm-install.log"
    GOBIN="$tools/bin" logged "$tools/helm-install.log" go install -v "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" ||
      die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed." "$tools/helm-install.log"
  fi
fi

if [ "${1:-}" = helm ]; then
  printf 'HELM=%q\n' "$helm_bin"
  exit 0
fi

validate_bin="$(command -v kubernetes-validate || true)"
if [ -z "$validate_bin" ]; then
  validate_bin="$tools/venv/bin/kubernetes-validate"
  if [ ! -x "$validate_bin" ]; then
    python3 -c 'import ensurepip, venv' 2>/dev/null || die "python3 with venv is needed to install kubernetes-validate; apt-get install python3-venv."
    note "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $tools/venv"
    { python3 -m venv "$tools/venv" &&
      "$tools/venv/bin/pip" install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"; } \
      >"$tools/kubernetes-validate-install.log" 2>&1 ||
      die "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION failed." "$tools/kubernetes-validate-install.log"
  fi
fi

printf 'HELM=%q\nKUBERNETES_VALIDATE=%q\n' "$helm_bin" "$validate_bin"
