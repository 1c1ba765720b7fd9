#!/usr/bin/env bash
# Benchmarks (not tests): figures for the release notes, measured on this machine.
#   bench/run.sh [content|noop|all]
#  content  the content measurer's throughput against sha256sum over the same bytes
#  noop     an unchanged `sconectl apply -f service.yaml --no-push` (needs scripts/infra)
#  mesh     `sconectl apply -f mesh.yaml --dry-run -o yaml` on generated meshes of 10, 100, 1000
#           services: wall time and peak memory
#  cas      1000 sessions uploaded to a local CAS in one apply, over one reused connection and
#           with a new connection per request (baseline); then the unchanged re-apply
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

if [ "$what" = cas ] || [ "$what" = all ]; then
  n=${BENCH_CAS_SESSIONS:-1000}
  sconectl="$root/build/release/src/sconectl"
  export SCONECTL_CAS_CONFIG="$work/client"
  # run_upload NAME [OPTIONS...]: a fresh CAS, then one timed apply that uploads n+1 sessions.
  run_upload() {
    local name=$1; shift
    rm -rf "$work/cas-$name" "$work/mesh-cas/target/cas"
    "$sconectl" cas serve --listen 127.0.0.1:0 --data-dir "$work/cas-$name" >"$work/cas-$name.env" 2>/dev/null &
    local pid=$!
    for _ in $(seq 100); do grep -q '^CAS_CERT=' "$work/cas-$name.env" && break; sleep 0.1; done
    # shellcheck disable=SC1090
    . "$work/cas-$name.env"
    sed -i -e "s|cas_url: .*|cas_url: $CAS_ADDR|" -e "s|cas_key: .*|cas_key: $CAS_KEY|" "$work/mesh-cas/mesh.yaml"
    (cd "$work/mesh-cas" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e %M' -o "$work/time-$name" \
      "$sconectl" -q apply -f mesh.yaml "$@" >/dev/null)
    read -r seconds kib <"$work/time-$name"
    python3 -c "import sys; n,s,g,k=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]); u=s-g; print(f'cas upload ({sys.argv[5]}): {n} sessions in {s:5.2f} s wall ({u:5.2f} s after generation: {n/u:6.0f} sessions/s), peak RSS {k/1024:5.1f} MiB')" \
      "$((n + 1))" "$seconds" "$generate_seconds" "$kib" "$name"
    if [ "$name" = reused ]; then
      (cd "$work/mesh-cas" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e' -o "$work/time-again" \
        "$sconectl" -q apply -f mesh.yaml >/dev/null)
      python3 -c "import sys; print(f'cas re-apply, nothing changed: {int(sys.argv[1])} sessions checked in {float(sys.argv[2]):5.2f} s')" "$((n + 1))" "$(cat "$work/time-again")"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
  }
  python3 "$root/bench/gen_mesh.py" "$work/mesh-cas" "$n"
  # A well-formed key until each run puts in the key of its CAS (generation alone uploads nothing).
  placeholder_key=$("$sconectl" self show-key-hash --cas-config "$work/placeholder")
  sed -i -e "s|mode: NoUpload|mode: Upload\n    cas_key: $placeholder_key|" "$work/mesh-cas/mesh.yaml"
  (cd "$work/mesh-cas" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e' -o "$work/time-generate" \
    "$sconectl" -q apply -f mesh.yaml --dry-run >/dev/null)
  generate_seconds=$(cat "$work/time-generate")
  echo "generation alone (--dry-run): $generate_seconds s"
  run_upload reused
  run_upload new-connection-per-request --new-connection-per-request
fi

