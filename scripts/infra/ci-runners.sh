#!/usr/bin/env bash
# Installs local runners for the CI examples (examples/ci/) when missing, and prints where they are:
#   gitlab-ci-local   npm gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION (default 4.73.0, the last that
#                     runs on Debian 12's Node 20), with rsync from Debian (it copies the project)
#   act               go install github.com/nektos/act@$ACT_VERSION (default v0.2.89; Go 1.24+)
#   scripts/infra/ci-runners.sh
# Output (for eval): GITLAB_CI_LOCAL=/path/to/it and ACT=/path/to/it.
# Idempotent and quiet on success; a runner already on PATH is used as it is. Both run the jobs on
# this machine (GitLab's shell executor, act's -self-hosted platform), so a job's `docker run`
# mounts what the job sees.
set -euo pipefail
# shellcheck source=scripts/infra/common.sh
source "$(dirname "$0")/common.sh"

GITLAB_CI_LOCAL_VERSION="${GITLAB_CI_LOCAL_VERSION:-4.73.0}"
ACT_VERSION="${ACT_VERSION:-v0.2.89}"
tools="$INFRA_DIR/tools"
mkdir -p "$tools"
take_lock ci-runners 1200

apt_install rsync git

gitlab_ci_local="$(command -v gitlab-ci-local || true)"
if [ -z "$gitlab_ci_local" ]; then
  gitlab_ci_local="$tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local"
  if [ ! -x "$gitlab_ci_local" ]; then
    command -v npm >/dev/null || die "gitlab-ci-local is missing and so is npm to install it; apt-get install npm."
    printf "%s: installing gitlab-ci-local %s from npm\n" "$INFRA_SELF" "$GITLAB_CI_LOCAL_VERSION" >&2
    logged "$tools/gitlab-ci-local-install.log" npm install --no-audit --no-fund --prefix "$tools/gitlab-ci-local" \
      "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" ||
      die "npm install gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION failed." "$tools/gitlab-ci-local-install.log"
  fi
fi
"$gitlab_ci_local" --version >/dev/null 2>&1 ||
  die "$gitlab_ci_local does not run (gitlab-ci-local $GITLAB_CI_LOCAL_VERSION needs Node 20 or later; node is $(node --version 2>/dev/null || echo missing))."

act="$(command -v act || true)"
if [ -z "$act" ]; then
  act="$tools/bin/act"
  if [ ! -x "$act" ]; then
    command -v go >/dev/null || die "act is missing and so is Go to build it; install Go 1.24 or later."
    printf '%s: building act %s with go install (about a minute the first time; go -v names each package it compiles)\n' "$INFRA_SELF" "$ACT_VERSION" >&2
    GOBIN="$tools/bin" logged "$tools/act-install.log" go install -v "github.com/nektos/act@$ACT_VERSION" ||
      die "go install github.com/nektos/act@$ACT_VERSION failed." "$tools/act-install.log"
  fi
fi

printf 'GITLAB_CI_LOCAL=%q\nACT=%q\n' "$gitlab_ci_local" "$act"
