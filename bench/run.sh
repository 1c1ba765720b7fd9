#!/usr/bin/env bash
# Benchmarks (not tests): figures for the release notes, measured on this machine.
#   bench/run.sh [content|noop|mesh|cas|latency|docker|runtime|attest|all]
#  content  the content measurer's throughput against sha256sum over the same bytes
#  noop     an unchanged `sconectl apply -f service.yaml --no-push` (needs scripts/infra)
#  mesh     `sconectl apply -f mesh.yaml --dry-run -o yaml` on generated meshes of 10, 100, 1000
#           services: wall time and peak memory
#  cas      1000 sessions uploaded to a local CAS in one apply, over one reused connection and
#           with a new connection per request (baseline); then the unchanged re-apply
#  latency  1000 sessions (a star: gen_mesh.py) created, then checked unchanged, through bench/delay_proxy.py adding a
#           20 ms round trip, with today's upload (16 requests in flight, one batch read) and the
#           baseline (a local CAS without batch reads, one request at a time: a GET and a POST per
#           session, as before); and created over loopback (sessions/s); peak memory of each
#  docker   the hello-world `apply -f mesh.yaml --dry-run` and a no-op `apply -f service.yaml`
#           (with --no-push, and with push: the registry asked for the recorded digest)
#           with Docker lookups through the Engine API (the default) and through the CLI (the
#           baseline: SCONECTL_DOCKER=docker), against `docker run --rm <base image> true`, the
#           original tool's floor per command (needs scripts/infra and hyperfine)
#  runtime  the hello-world image with the simulation runtime (measure, attest, run) against the
#           same image started without it, to the program's output; and the runtime's
#           measurement throughput (needs scripts/infra and hyperfine)
#  attest   a scale-out attesting at once: 100, 1000 and 5000 simulated runtimes (bench_attest:
#           the runtime's own protocol code, a fresh TLS connection each) against one local CAS,
#           and 200 in flight for p99; attestations/s, p50/p99, the CAS's CPU per attestation and
#           peak RSS, time per phase, and the handshake's public-key cost on this CPU
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
# BENCH_BUILD_DIR: use an existing build instead of building build/release.
build=${BENCH_BUILD_DIR:-$root/build/release}
if [ -z "${BENCH_BUILD_DIR:-}" ]; then
  "$root/scripts/build.sh" "$build" >/dev/null 2>&1 || "$root/scripts/build.sh" "$build"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$what" = content ] || [ "$what" = all ]; then
  size=${BENCH_CONTENT_MIB:-512}
  "$build/bench/bench_content_measurement" "$work/content" "$size"
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
  sconectl=("$build/src/sconectl" -q apply -f service.yaml --no-push --config "$work/config.yaml")
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
      "$build/src/sconectl" -q apply -f mesh.yaml --dry-run -o yaml >/dev/null)
    read -r seconds kib <"$work/time-$n"
    files=$(find "$work/mesh-$n/target/policies" "$work/mesh-$n/target/helm" "$work/mesh-$n/target/manifests" -type f | wc -l)
    python3 -c "import sys; n,s,k,f=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]); print(f'mesh apply --dry-run: {n:5d} services in {s:6.2f} s ({s/n*1000:6.2f} ms per service), peak RSS {k/1024:6.1f} MiB, {f} files')" "$n" "$seconds" "$kib" "$files"
  done
fi

if [ "$what" = cas ] || [ "$what" = all ]; then
  n=${BENCH_CAS_SESSIONS:-1000}
  sconectl="$build/src/sconectl"
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

if [ "$what" = latency ] || [ "$what" = all ]; then
  n=${BENCH_LATENCY_SESSIONS:-1000}
  delay=${BENCH_DELAY_MS:-10}  # each way
  sconectl="$build/src/sconectl"
  export SCONECTL_CAS_CONFIG="$work/client"
  # A star (one exporter, every other service importing from it): the shape of a mesh with one
  # database; in a ring every upload would wait for the one before (bench/gen_mesh.py).
  python3 "$root/bench/gen_mesh.py" "$work/mesh-lat" "$n" star
  placeholder_key=$("$sconectl" self show-key-hash --cas-config "$work/placeholder")
  sed -i -e "s|mode: NoUpload|mode: Upload\n    cas_key: $placeholder_key|" "$work/mesh-lat/mesh.yaml"
  # timed NAME CAS_FLAGS PROXY(yes|no) APPLY_FLAGS...: a fresh CAS (behind the proxy or not), one
  # timed apply that creates every session, then one timed unchanged re-apply.
  timed() {
    local name=$1 cas_flags=$2 proxied=$3; shift 3
    rm -rf "$work/cas-$name" "$work/mesh-lat/target/cas"
    # shellcheck disable=SC2086
    "$sconectl" cas serve --listen 127.0.0.1:0 --data-dir "$work/cas-$name" $cas_flags >"$work/cas-$name.env" 2>/dev/null &
    local pid=$! proxy_pid=
    for _ in $(seq 100); do grep -q '^CAS_CERT=' "$work/cas-$name.env" && break; sleep 0.1; done
    # shellcheck disable=SC1090
    . "$work/cas-$name.env"
    local address=$CAS_ADDR
    if [ "$proxied" = yes ]; then
      python3 "$root/bench/delay_proxy.py" "$CAS_ADDR" "$delay" >"$work/proxy-$name.env" &
      proxy_pid=$!
      for _ in $(seq 100); do grep -q '^LISTEN=' "$work/proxy-$name.env" && break; sleep 0.1; done
      address=$(sed -n 's/^LISTEN=//p' "$work/proxy-$name.env")
    fi
    sed -i -e "s|cas_url: .*|cas_url: $address|" -e "s|cas_key: .*|cas_key: $CAS_KEY|" "$work/mesh-lat/mesh.yaml"
    (cd "$work/mesh-lat" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e %M' -o "$work/time-$name" \
      "$sconectl" -q apply -f mesh.yaml "$@" >/dev/null)
    (cd "$work/mesh-lat" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e %M' -o "$work/time-$name-again" \
      "$sconectl" -q apply -f mesh.yaml "$@" >/dev/null)
    # `diff` of the unchanged mesh: exit 0, nothing to upload.
    (cd "$work/mesh-lat" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e %M' -o "$work/time-$name-diff" \
      "$sconectl" -q diff -f mesh.yaml >/dev/null) || { echo "latency: diff of the unchanged mesh did not exit 0" >&2; exit 1; }
    [ -z "$proxy_pid" ] || kill "$proxy_pid"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    read -r created created_kib <"$work/time-$name"
    read -r again again_kib <"$work/time-$name-again"
    read -r diffed diffed_kib <"$work/time-$name-diff"
    echo "$name $created $created_kib $again $again_kib $diffed $diffed_kib" >>"$work/latency.txt"
  }
  # Generation alone, as the timed applies find the target directory: the policies and chart of
  # an earlier run already there and unchanged (the first run writes them). Median of three.
  (cd "$work/mesh-lat" && SCONECTL_DOCKER=/nonexistent "$sconectl" -q apply -f mesh.yaml --dry-run >/dev/null)
  for i in 1 2 3; do
    (cd "$work/mesh-lat" && SCONECTL_DOCKER=/nonexistent /usr/bin/time -f '%e' -o "$work/time-lat-generate-$i" \
      "$sconectl" -q apply -f mesh.yaml --dry-run >/dev/null)
  done
  : >"$work/latency.txt"
  timed concurrent "" yes
  timed baseline "--without-batch-reads" yes --cas-concurrency 1
  # Over loopback a run takes about a second: three, each against a fresh CAS, for a median.
  for i in 1 2 3; do timed "loopback-$i" "" no; done
  python3 - "$work/latency.txt" "$((n + 1))" "$((2 * delay))" \
    "$(cat "$work"/time-lat-generate-* | sort -n | sed -n 2p)" <<'PY'
import statistics
import sys
rows = {r[0]: [float(x) for x in r[1:]] for r in (l.split() for l in open(sys.argv[1]))}
n, rtt, gen = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rows["loopback"] = [statistics.median(rows[f"loopback-{i}"][k] for i in (1, 2, 3)) for k in range(4)]
print(f"generation alone (--dry-run, median of 3): {gen:.2f} s; {n} sessions; round trip added: {rtt} ms")
for name, label in (("concurrent", "today (16 in flight, batch read)"),
                    ("baseline", "baseline (one at a time, GET and POST per session)")):
    c, ck, a, ak = rows[name][:4]
    print(f"over {rtt} ms RTT, {label}: created in {c:.2f} s (peak RSS {ck/1024:.1f} MiB), "
          f"unchanged re-apply {a:.2f} s (peak RSS {ak/1024:.1f} MiB)")
c, b = rows["concurrent"], rows["baseline"]
print(f"goal: {n} sessions created over {rtt} ms RTT in under 3 s: {c[0]:.2f} s "
      f"(baseline {b[0]:.2f} s, {b[0]/c[0]:.1f}x)")
print(f"goal: {n} unchanged sessions checked over {rtt} ms RTT in under 1 s: {c[2]:.2f} s "
      f"(baseline {b[2]:.2f} s, {b[2]/c[2]:.1f}x)")
print(f"goal: diff of {n} unchanged sessions over {rtt} ms RTT within 1.5x of the unchanged "
      f"re-apply: {c[4]:.2f} s (re-apply {c[2]:.2f} s, {c[4]/c[2]:.2f}x; without batch reads "
      f"{b[4]:.2f} s)")
l = rows["loopback"]
print(f"goal: at least 1000 sessions/s created over loopback: {n/(l[0]-gen):.0f} sessions/s "
      f"(median of 3: {l[0]:.2f} s wall, {l[0]-gen:.2f} s after generation)")
PY
fi

if [ "$what" = docker ] || [ "$what" = all ]; then
  command -v hyperfine >/dev/null || { echo "docker: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
  sconectl="$build/src/sconectl"
  "$root/scripts/infra/docker.sh"
  eval "$("$root/scripts/infra/docker.sh" --print-env)"
  eval "$("$root/scripts/infra/registry.sh" --print-env)"
  export DOCKER_CONFIG
  base=$("$root/scripts/infra/base-image.sh")
  export APP_IMAGE_REPO="$REGISTRY/sconectl-bench-docker" API_USER=bench
  cp -r "$root/examples/hello-world" "$work/dk"
  printf 'base_images:\n  python: %s\n' "$base" >"$work/config.yaml"
  cd "$work/dk"
  "$sconectl" -q apply -f service.yaml --config "$work/config.yaml" >/dev/null   # pushed once
  "$sconectl" -q apply -f mesh.yaml --dry-run >/dev/null
  runs=${BENCH_RUNS:-40}
  mesh="$sconectl -q apply -f mesh.yaml --dry-run"
  service="$sconectl -q apply -f service.yaml --no-push --config $work/config.yaml"
  # With push: sconectl asks the registry itself for the recorded digest (a HEAD of the manifest,
  # image/registry_client.hpp), and the Engine API only when that cannot tell; through the CLI
  # alone (the baseline) it runs `docker push`.
  pushing="$sconectl -q apply -f service.yaml --config $work/config.yaml"
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/docker.json" \
    -n floor "docker run --rm $base true" \
    -n mesh-engine "$mesh" -n mesh-cli "env SCONECTL_DOCKER=docker $mesh" \
    -n service-engine "$service" -n service-cli "env SCONECTL_DOCKER=docker $service" \
    -n push-engine "$pushing" -n push-cli "env SCONECTL_DOCKER=docker $pushing" \
    >"$work/hyperfine-docker.txt" 2>&1 || { cat "$work/hyperfine-docker.txt" >&2; exit 1; }
  # Nothing on the mesh path may start a process or open a network connection.
  if command -v strace >/dev/null; then
    strace -f -e trace=execve,connect -o "$work/mesh.strace" $mesh >/dev/null
    execs=$(grep -c 'execve(' "$work/mesh.strace")
    inet=$(grep -c 'connect(.*AF_INET' "$work/mesh.strace" || true)
    echo "mesh --dry-run: $((execs - 1)) processes started, $inet network connections (goal: 0 and 0)"
  fi
  python3 - "$work/docker.json" <<'PY'
import json, sys
m = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
floor = m["floor"]
print(f"docker run --rm <base> true (the original's floor): {floor*1000:.1f} ms (median)")
for path in ("mesh", "service"):
    e, c = m[f"{path}-engine"], m[f"{path}-cli"]
    print(f"{path}: Engine API {e*1000:.1f} ms, CLI {c*1000:.1f} ms (medians): {c/e:.1f}x faster than "
          f"the CLI, {floor/e:.1f}x faster than the floor")
print(f"goal mesh --dry-run >= 25x faster than the floor: {floor/m['mesh-engine']:.1f}x")
print(f"goal no-op service re-apply < 60 ms: {m['service-engine']*1000:.1f} ms (CLI baseline "
      f"{m['service-cli']*1000:.1f} ms)")
print(f"goal no-op re-apply with push >= 8x faster than the floor: {floor/m['push-engine']:.1f}x "
      f"({m['push-engine']*1000:.1f} ms; pushing through the CLI: {m['push-cli']*1000:.1f} ms, "
      f"{m['push-cli']/m['push-engine']:.1f}x slower)")
PY
  cd "$root"
fi

if [ "$what" = runtime ] || [ "$what" = all ]; then
  command -v hyperfine >/dev/null || { echo "runtime: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
  sconectl="$build/src/sconectl"
  "$root/scripts/infra/docker.sh"
  eval "$("$root/scripts/infra/docker.sh" --print-env)"
  eval "$("$root/scripts/infra/registry.sh" --print-env)"
  export DOCKER_CONFIG
  base=$("$root/scripts/infra/base-image.sh")
  "$sconectl" cas serve --listen 127.0.0.1:0 --data-dir "$work/cas-runtime" >"$work/cas-runtime.env" 2>/dev/null &
  cas_pid=$!
  for _ in $(seq 100); do grep -q '^CAS_CERT=' "$work/cas-runtime.env" && break; sleep 0.1; done
  # shellcheck disable=SC1090
  . "$work/cas-runtime.env"
  export CAS_ADDR CAS_KEY SCONECTL_CAS_CONFIG="$work/client"
  export APP_IMAGE_REPO="$REGISTRY/sconectl-bench-runtime" APP_NAMESPACE="bench-runtime-$$"
  export APP_TOLERATE="outdated-tcb, simulation"
  cp -r "$root/examples/hello-world" "$work/rt"
  printf 'base_images:\n  python: %s\n' "$base" >"$work/config.yaml"
  # The program prints its lines and exits (no KEEP_RUNNING), so each run ends with its output.
  sed -i '/KEEP_RUNNING/,+1d' "$work/rt/service.yaml"
  (cd "$work/rt" && "$sconectl" -q apply -f service.yaml --config "$work/config.yaml" --runtime sim >/dev/null &&
    "$sconectl" -q apply -f mesh.yaml --mode debug >/dev/null)
  image="$APP_IMAGE_REPO/hello-user:1"
  with_runtime="docker run --rm --network host --tmpfs /run/hello-user -e SCONE_CONFIG_ID=$APP_NAMESPACE/hello-user/hello-user -e SCONE_CAS_ADDR=$CAS_ADDR -e SCONE_CAS_KEY=$CAS_KEY $image"
  without_runtime="docker run --rm --network host --entrypoint python3 -w /app -e API_USER=myself $image greet.py"
  $with_runtime 2>/dev/null | grep "thanks for passing" >/dev/null || { echo "runtime: the attested run failed" >&2; exit 1; }
  runs=${BENCH_RUNS:-30}
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/runtime.json" \
    -n without-runtime "$without_runtime" -n with-runtime "$with_runtime" >"$work/hyperfine.txt" 2>&1 ||
    { cat "$work/hyperfine.txt" >&2; exit 1; }
  # Measurement throughput: SCONE_HASH=1 over a large /app (the runtime's own measuring, in its
  # container), against the same with the image's small /app; the difference is the large tree.
  size=${BENCH_RUNTIME_MIB:-256}
  mkdir -p "$work/big"
  python3 - "$work/big" "$size" <<'PY'
import os, sys
out, mib = sys.argv[1], int(sys.argv[2])
for i in range(mib // 4):
    with open(os.path.join(out, f"f{i}.bin"), "wb") as f:
        f.write(os.urandom(4 * 1024 * 1024))
PY
  hyperfine -N --warmup 2 --runs "${BENCH_RUNTIME_RUNS:-10}" --export-json "$work/measure.json" \
    -n small "docker run --rm -e SCONE_HASH=1 $image" \
    -n large "docker run --rm -e SCONE_HASH=1 -v $work/big:/app:ro $image" >"$work/hyperfine-measure.txt" 2>&1 ||
    { cat "$work/hyperfine-measure.txt" >&2; exit 1; }
  python3 - "$work/runtime.json" "$work/measure.json" "$size" <<'PY'
import json, sys
def medians(path):
    return {r["command"]: r["median"] for r in json.load(open(path))["results"]}
start = medians(sys.argv[1])
base, attested = start["without-runtime"], start["with-runtime"]
print(f"runtime start: without the runtime {base*1000:.0f} ms, with it {attested*1000:.0f} ms "
      f"(medians): the runtime adds {(attested-base)*1000:.0f} ms, ratio {attested/base:.2f} "
      f"(goal: adds under 50 ms)")
m = medians(sys.argv[2])
mib = int(sys.argv[3])
extra = m["large"] - m["small"]
print(f"runtime measurement: {mib} MiB more under pwd costs {extra:.2f} s = {mib/extra:.0f} MiB/s "
      f"(docker run -e SCONE_HASH=1, medians {m['small']*1000:.0f} ms and {m['large']*1000:.0f} ms)")
PY
  kill "$cas_pid"; wait "$cas_pid" 2>/dev/null || true
fi

if [ "$what" = attest ] || [ "$what" = all ]; then
  # SIMULATION: the local CAS attests self-reported measurements; no SGX, no hardware protection.
  sconectl="$build/src/sconectl"
  generator="$build/bench/bench_attest"
  [ -x "$generator" ] || { echo "attest: $generator is missing (build the target bench_attest)" >&2; exit 1; }
  # At most this many attempts in flight: each is a thread of the load generator holding one
  # connection, and the generator shares this machine's cores with the CAS (bench/README.md).
  cap=${BENCH_ATTEST_WORKERS:-1000}
  # Every client here comes from 127.0.0.1: the CAS's defaults (4096 connections, 256 per source)
  # would close most of a burst as it arrives. Only these two limits are raised; the timeouts stay.
  cas_limits="--max-connections 10000 --max-connections-per-source 10000"
  # The session's measurement: what every simulated runtime reports (measuring a container is
  # the `runtime` section's subject, and costs the CAS nothing).
  measurement=$(printf '%064d' 0 | tr 0 a)
  token=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  printf 'version: "0.3.10"\nname: bench-attest\n' >"$work/attest-ns.yaml"
  # One service with a generated secret in its environment and in an injection file, as the
  # hello-world example has.
  cat >"$work/attest-svc.yaml" <<SESSION
version: "0.3.10"
name: bench-attest/svc
services:
  - name: api
    image_name: api
    command: ["app"]
    pwd: /app
    environment:
      API_USER: bench
      API_PASSWORD: "\$\$SCONE::api_password\$\$"
    attestation:
      mrenclave: ["$measurement"]
images:
  - name: api
    injection_files:
      - path: /run/api/conf
        content: "password=\$\$SCONE::api_password\$\$\\n"
secrets:
  - name: api_password
    kind: ascii
    size: 16
security:
  service_access_token: "$token"
  attestation:
    tolerate: [simulation]
SESSION
  # attest_run NAME ATTEMPTS WORKERS: a fresh CAS (so its peak RSS is this run's), the session
  # created with the CLI, then one burst from the load generator, a process of its own.
  attest_run() {
    local name=$1 attempts=$2 workers=$3
    # shellcheck disable=SC2086
    "$sconectl" cas serve --listen 127.0.0.1:0 --data-dir "$work/cas-attest-$name" $cas_limits \
      >"$work/cas-attest-$name.env" 2>"$work/cas-attest-$name.log" &
    local pid=$!
    for _ in $(seq 100); do grep -q '^CAS_CERT=' "$work/cas-attest-$name.env" && break; sleep 0.1; done
    # shellcheck disable=SC1090
    . "$work/cas-attest-$name.env"
    export SCONECTL_CAS_CONFIG="$work/client-attest-$name"
    local log="$work/attest-$name-setup.log"
    { "$sconectl" -q cas attest "$CAS_ADDR" --cas-key "$CAS_KEY" --default &&
      "$sconectl" -q session create -t "$work/attest-target" -f "$work/attest-ns.yaml" &&
      "$sconectl" -q session create -t "$work/attest-target" -f "$work/attest-svc.yaml"; } >"$log" 2>&1 ||
      { echo "attest: setting up the session failed:" >&2; cat "$log" >&2; exit 1; }
    # The generator exits 1 when an attempt failed; the figures say how many and why.
    "$generator" --address "$CAS_ADDR" --cas-key "$CAS_KEY" --config-id bench-attest/svc/api \
      --token "$token" --measurement "$measurement" --attempts "$attempts" --workers "$workers" \
      --cas-pid "$pid" --json "$work/attest-$name.json" >"$work/attest-$name.txt" || true
    sed -n "s/^  failure/attest $name: failure/p" "$work/attest-$name.txt"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  }
  echo "attest: SIMULATION, no SGX and no hardware protection; CAS limits raised for the burst: $cas_limits (defaults 4096 and 256); at most $cap in flight; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  sizes=${BENCH_ATTEST_SIZES:-100 1000 5000}
  for n in $sizes; do attest_run "n$n" "$n" "$((n < cap ? n : cap))"; done
  # 200 attesting at once throughout: 200 workers, ten attestations each.
  attest_run p99 2000 200
  # For reference, the same with 20 in flight: what the CAS and the runtimes cost per attestation
  # when neither side juggles hundreds of connections.
  attest_run few 2000 20
  # The physical floor: the public-key operations of one attestation on this CPU. The CAS's
  # identity is a P-256 key (src/cas/identity.cpp); neither side sets TLS groups, so OpenSSL's
  # first, X25519, is the handshake's key exchange; the CAS seals its answer with one more X25519.
  openssl speed -mr -seconds 1 ecdsap256 ecdhx25519 2>/dev/null | grep '^+F' >"$work/attest-speed.txt" || true
  python3 - "$work" "$sizes" "$(nproc)" <<'PY'
import json, os, sys
work, sizes, cores = sys.argv[1], [int(n) for n in sys.argv[2].split()], int(sys.argv[3])
runs = {n: json.load(open(os.path.join(work, f"attest-n{n}.json"))) for n in sizes}
p99 = json.load(open(os.path.join(work, "attest-p99.json")))
few = json.load(open(os.path.join(work, "attest-few.json")))
def line(label, r):
    print(f"{label}: {r['succeeded']}/{r['attempts']} ok in {r['wall_s']:.2f} s = {r['rate']:.0f} "
          f"attestations/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['failed']} failed "
          f"({r['nonce_refusals']} nonce refused); CAS {r['cas_cpu_ms']:.2f} ms CPU per attestation, "
          f"peak RSS {r['cas_peak_rss_kib'] / 1024:.1f} MiB; load generator {r['client_cpu_ms']:.2f} "
          f"ms CPU per attestation")
    print(f"  phases (client side, mean): TLS connect+handshake {r['handshake_ms']:.1f} ms, nonce "
          f"{r['nonce_ms']:.1f} ms, attestation request {r['request_ms']:.1f} ms, the runtime's own "
          f"crypto {r['client_crypto_ms']:.2f} ms")
for n, r in runs.items():
    line(f"attest N={n} at once ({r['workers']} in flight)", r)
line("attest 200 in flight (2000 attempts)", p99)
line("attest 20 in flight (2000 attempts, for reference)", few)
speed = {}
for row in open(os.path.join(work, "attest-speed.txt")):
    fields = row.strip().split(":")
    if fields[0] == "+F4" and fields[2] == "256":  # ECDSA: signs/s, verifies/s
        speed["sign_us"], speed["verify_us"] = 1e6 / float(fields[3]), 1e6 / float(fields[4])
    if fields[0] == "+F5" and fields[2] == "253":  # ECDH X25519: derivations/s
        speed["x25519_us"] = 1e6 / float(fields[3])
if len(speed) == 3:
    # Per attestation the CAS signs once (TLS 1.3 CertificateVerify) and makes two X25519
    # exchanges (the handshake's and the sealing's), each a key generation and a derivation; a key
    # generation is counted as one more derivation, which overstates it a little. The runtime
    # verifies that signature and makes the other half of both exchanges.
    x = speed["x25519_us"]
    print(f"floor on this CPU (openssl speed, one core): ECDSA P-256 sign {speed['sign_us']:.1f} us, "
          f"verify {speed['verify_us']:.1f} us, X25519 {x:.1f} us; per attestation the CAS's "
          f"public-key work is {speed['sign_us'] + 4 * x:.0f} us (one sign, four X25519, "
          f"{speed['sign_us'] + 2 * x:.0f} us of it the handshake, on the CAS's connection threads), "
          f"the runtime's {speed['verify_us'] + 4 * x:.0f} us (one verify, four X25519)")
else:
    print("floor: openssl speed gave no P-256 and X25519 figures")
key = 1000 if 1000 in runs else sizes[-1]
r = runs[key]
both = r["cas_cpu_ms"] + r["client_cpu_ms"]
others = "".join(f"N={n}: {runs[n]['rate']:.0f}/s; " for n in sizes if n != key)
print(f"goal: at least 1000 attestations/s with {key} attesting at once: {r['rate']:.0f} "
      f"attestations/s ({others}CAS and load generator share {cores} cores and spend {both:.2f} ms "
      f"CPU per attestation together: a ceiling of {cores * 1000 / both:.0f}/s with the cores to "
      f"themselves; the CAS's {r['cas_cpu_ms']:.2f} ms alone would allow "
      f"{cores * 1000 / r['cas_cpu_ms']:.0f}/s)")
# Little's law: with 200 in flight at a rate R, an attempt takes 200 / R on average; the rate is
# at most what the two processes' CPU per attestation allows on these cores.
ceiling = cores * 1000 / (p99["cas_cpu_ms"] + p99["client_cpu_ms"])
print(f"goal: p99 under 100 ms with 200 attesting at once: {p99['p99_ms']:.1f} ms (p50 "
      f"{p99['p50_ms']:.1f} ms, {p99['rate']:.0f} attestations/s; at this run's ceiling of "
      f"{ceiling:.0f}/s, 200 in flight take {200 / ceiling * 1000:.0f} ms each on average)")
if 5000 in runs:
    r = runs[5000]
    print(f"goal: no failure and no nonce refused at N = 5000: {r['failed']} failed, "
          f"{r['nonce_refusals']} nonce refused ({r['workers']} in flight)")
PY
  echo "attest: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
