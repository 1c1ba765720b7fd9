#!/usr/bin/env bash
# Benchmarks (not tests): figures for the release notes, measured on this machine.
#   bench/run.sh [content|noop|all]
#  content  the content measurer's throughput against sha256sum over the same bytes
#  noop     an unchanged `sconectl apply -f service.yaml --no-push` (needs scripts/infra)
#  mesh     `sconectl apply -f mesh.yaml --dry-run -o yaml` on generated meshes of 10, 100, 1000
#           services: wall time and peak memory
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

if [ "$what" = mesh ] || [ "$what" = all ]; then
  for n in ${BENCH_MESH_SIZES:-10 100 1000}; do
    python3 "$root/bench/gen_mesh.py" "$work/mesh-$n" "$n"
    # GNU time: %e wall seconds, %M peak resident set size in KiB. Docker is not consulted
    # (SCONECTL_DOCKER points nowhere), so the figure is sconectl's own work.
    (cd "$work/mesh-$n" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e %M' -o "$work/time-$n" \
      "$root/build/release/src/sconectl" -q apply -f mesh.yaml --dry-run -o yaml >/dev/null)
    read -r seconds kib <"$work/time-$n"
    files=$(find "$work/mesh-$n/target/policies" "$work/mesh-$n/target/helm" "$work/mesh-$n/target/manifests" -type f | wc -l)
    python3 -c "import sys; n,s,k,f=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]); print(f'mesh apply --dry-run: {n:5d} services in {s:6.2f} s ({s/n*1000:6.2f} ms per service), peak RSS {k/1024:6.1f} MiB, {f} files')" "$n" "$seconds" "$kib" "$files"
  done
fi
