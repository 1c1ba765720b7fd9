#!/usr/bin/env bash
# Benchmarks (not tests): figures for the release notes, measured on this machine.
#   bench/run.sh [content|noop|all]
#  content  the content measurer's throughput against sha256sum over the same bytes
#  noop     an unchanged `sconectl apply -f service.yaml --no-push` (needs scripts/infra)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
"$root/scripts/build.sh" "$root/build/release" >/dev/null 2>&1 || "$root/scripts/build.sh" "$root/build/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$what" = content ] || [ "$what" = all ]; then
  size=${BENCH_CONTENT_MIB:-512}
  "$root/build/release/bench/bench_content_measurement" "$work/content" "$size"
  start=$(date +%s.%N)
  find "$work/content/files" -type f -print0 | xargs -0 sha256sum >/dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'sha256sum: {int(sys.argv[3])} MiB in {s:.3f} s = {int(sys.argv[3])/s:.0f} MiB/s')" "$start" "$end" "$size"
fi

if [ "$what" = noop ] || [ "$what" = all ]; then
  "$root/scripts/infra/docker.sh"
  eval "$("$root/scripts/infra/registry.sh" --print-env)"
  base=$("$root/scripts/infra/base-image.sh")
  cp -r "$root/examples/hello-world" "$work/app"
  printf 'base_images:\n  python: %s\n' "$base" >"$work/config.yaml"
  cd "$work/app"
  export APP_IMAGE_REPO="$REGISTRY/sconectl-bench"
  sconectl=("$root/build/release/src/sconectl" -q apply -f service.yaml --no-push --config "$work/config.yaml")
  "${sconectl[@]}" >/dev/null
  runs=${BENCH_RUNS:-20}
  start=$(date +%s.%N)
  for _ in $(seq "$runs"); do "${sconectl[@]}" >/dev/null; done
  end=$(date +%s.%N)
  python3 -c "import sys; s=(float(sys.argv[2])-float(sys.argv[1]))/int(sys.argv[3]); print(f'noop re-apply: {s*1000:.0f} ms per run (mean of {sys.argv[3]})')" "$start" "$end" "$runs"
fi
