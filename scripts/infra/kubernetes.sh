#!/usr/bin/env bash
# Ensures a single-node Kubernetes on this machine, built from the package registries: the
# components and kube-proxy come from the Go module k8s.io/kubernetes (through the wrapper module in
# scripts/infra/kubernetes/, pinned by its go.sum), etcd from Debian's etcd-server, containers
# from Debian's containerd and runc, the pod network from Debian's containernetworking-plugins,
# cluster DNS from the Go module github.com/coredns/coredns.
# Nothing is downloaded as a prebuilt binary and no image is pulled from a public registry: the
# pause image is a static program of our own, built here. Idempotent and quiet on success.
#
# Usage: scripts/infra/kubernetes.sh [--print-env | --stop]
#   (no option)  ensure the cluster answers and its node is Ready, print nothing
#   --print-env  ensure it, then print (eval-safe) KEY=VALUE lines:
#                  KUBECONFIG   an admin kubeconfig for the cluster
#                  KUBECTL      the kubectl built for it
#                  K8S_NODE_IP  the address pods reach the host on (the CNI bridge's gateway)
#   --stop       stop every component this script started and the pods it ran (state and
#                certificates stay; after --stop, $SCONECTL_INFRA_DIR/kubernetes can be removed)
#
# Environment:
#   SCONECTL_INFRA_DIR        state directory (default /tmp/sconectl-infra); the cluster lives in
#                             $SCONECTL_INFRA_DIR/kubernetes
#   SCONECTL_K8S_CACHE        where built binaries are kept by version (default
#                             ~/.cache/sconectl/kubernetes); a second run builds nothing
#   SCONECTL_K8S_TIMEOUT      seconds to wait for each component (default 180)
#
# Everything listens on 127.0.0.1 or on the pod bridge (10.88.0.1); nothing on other interfaces.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

parse_mode "$@"

version="v1.34.2"
dir="$INFRA_DIR/kubernetes"
cache="${SCONECTL_K8S_CACHE:-$HOME/.cache/sconectl/kubernetes}/$version"
bin="$cache/bin"
timeout_s="${SCONECTL_K8S_TIMEOUT:-180}"
# The API server reaches the kubelet by node name (the kubelet refuses a loopback node IP), so the
# name must resolve to this machine's loopback: the host name when it does, else localhost.
node="$(hostname)"
case "$(getent hosts "$node" 2>/dev/null | awk 'NR == 1 { print $1 }')" in
  127.* | ::1) ;;
  *) node=localhost ;;
esac
bridge_ip="10.88.0.1"
pod_cidr="10.88.0.0/16"
service_cidr="10.96.0.0/16"
api="https://127.0.0.1:6443"
etcd_client="127.0.0.1:23790"
etcd_peer="127.0.0.1:23800"
containerd_sock="$dir/containerd/containerd.sock"
coredns_version="v1.14.7"
components=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns)

print_facts() {
  print_env KUBECONFIG "$dir/admin.kubeconfig" KUBECTL "$bin/kubectl" K8S_NODE_IP "$bridge_ip"
}

pid_of() {
  local pid
  pid="$(cat "$dir/$1.pid" 2>/dev/null || true)"
  if alive_named "$pid" "$(printf '%.15s' "$1")"; then echo "$pid"; fi
}

# Pods outlive the kubelet and containerd (their shims keep running): stop them with containerd
# while it still answers, then whatever shim is left, then the pods' volume mounts.
stop_pods() {
  local task
  if [ -S "$containerd_sock" ] && ctr --address "$containerd_sock" version >/dev/null 2>&1; then
    for task in $(ctr --address "$containerd_sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$containerd_sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
  fi
}
stop_all() {
  local name pid
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    name="${components[$i]}"
    [ "$name" = containerd ] && stop_pods
    pid="$(pid_of "$name")"
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait_until 90 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
  pkill -9 -f -- "-address $containerd_sock" 2>/dev/null || true
  awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
}

kubectl_() { "$bin/kubectl" --kubeconfig "$dir/admin.kubeconfig" "$@"; }
node_ready() {
  [ "$(kubectl_ get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
all_running() {
  local name
  for name in "${components[@]}"; do [ -n "$(pid_of "$name")" ] || return 1; done
}

if [ "$mode" = stop ]; then
  take_lock kubernetes 300
  stop_all
  exit 0
fi

if [ -x "$bin/kubectl" ] && [ -x "$bin/coredns" ] && all_running && node_ready; then
  [ "$mode" = print-env ] && print_facts
  exit 0
fi

require_root
take_lock kubernetes 1800
apt_install etcd-server containerd runc containernetworking-plugins openssl gcc libc6-dev
mkdir -p "$dir" "$bin"
umask 077

# --- the binaries, built once per version ------------------------------------------------------
build_log="$cache/build.log"
have_binaries() {
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
    [ -x "$bin/$c" ] || return 1
  done
}
if ! have_binaries; then
  command -v go >/dev/null || die "Go is needed to build Kubernetes $version (go 1.24 or later)."
  printf '%s: building Kubernetes %s from the Go module proxy (the first time: about 15 minutes on 2 cores; go -v names each package it compiles)\n' "$INFRA_SELF" "$version" >&2
  # The version goes in through ldflags, or the binaries report v0.0.0-master.
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
  : >"$build_log"
  (cd "$here/kubernetes" && GOFLAGS=-mod=readonly logged "$build_log" go build -v -trimpath -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy) ||
    die "building Kubernetes $version failed." "$build_log"
fi
# Cluster DNS: CoreDNS, a module of its own without replace directives, pinned by version.
if [ ! -x "$bin/coredns" ]; then
  printf '%s: building CoreDNS %s\n' "$INFRA_SELF" "$coredns_version" >&2
  : >"$cache/coredns-build.log"
  GOBIN="$bin" logged "$cache/coredns-build.log" go install -v -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$coredns_version" \
    || die "building CoreDNS $coredns_version failed." "$cache/coredns-build.log"
fi

# --- certificates (once) ------------------------------------------------------------------------
pki="$dir/pki"
mkdir -p "$pki"
ssl_log="$pki/openssl.log"
if [ ! -s "$pki/ca.crt" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=sconectl test cluster CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" >"$ssl_log" 2>&1 || die "openssl: the cluster CA" "$ssl_log"
fi
# issue NAME SUBJECT EXTENDED_KEY_USAGE [SANS]
issue() {
  local name=$1 subject=$2 usage=$3 sans=${4:-}
  [ -s "$pki/$name.crt" ] && return 0
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$pki/$name.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "$subject" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" >>"$ssl_log" 2>&1 &&
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -sha256 -days 825 -extfile "$pki/$name.ext" -out "$pki/$name.crt" >>"$ssl_log" 2>&1 ||
    die "openssl: certificate $name" "$ssl_log"
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
issue apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
issue admin "/O=system:masters/CN=sconectl-admin" clientAuth
issue apiserver-kubelet "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
issue controller-manager "/CN=system:kube-controller-manager" clientAuth
issue scheduler "/CN=system:kube-scheduler" clientAuth
issue kubelet-client "/O=system:nodes/CN=system:node:$node" clientAuth
issue kubelet-server "/CN=$node" serverAuth "IP:127.0.0.1,DNS:$node,DNS:localhost"
issue kube-proxy "/CN=system:kube-proxy" clientAuth
[ -s "$pki/sa.key" ] || openssl genrsa -out "$pki/sa.key" 2048 >>"$ssl_log" 2>&1
[ -s "$pki/sa.pub" ] || openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" >>"$ssl_log" 2>&1

# kubeconfig NAME CERT: a kubeconfig with the certificates embedded (one self-contained file).
kubeconfig() {
  local file="$dir/$1.kubeconfig"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: sconectl
    cluster:
      server: $api
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $1
    user:
      client-certificate-data: $(base64 -w0 "$pki/$2.crt")
      client-key-data: $(base64 -w0 "$pki/$2.key")
contexts:
  - name: sconectl
    context: {cluster: sconectl, user: $1}
current-context: sconectl
EOF
}
kubeconfig admin admin
kubeconfig controller-manager controller-manager
kubeconfig scheduler scheduler
kubeconfig kubelet kubelet-client
kubeconfig kube-proxy kube-proxy
chmod 0644 "$pki/ca.crt"

# start NAME COMMAND...: runs COMMAND in the background as component NAME unless it runs already.
start() {
  local name=$1
  shift
  [ -n "$(pid_of "$name")" ] && return 0
  note "starting $name"
  setsid "$@" </dev/null >>"$dir/$name.log" 2>&1 9>&- &
  echo $! >"$dir/$name.pid"
}
# restart_if_changed NAME FILE: a component whose configuration FILE changed since it started is
# stopped, so that start() runs it with the new one.
restart_if_changed() {
  local name=$1 file=$2 pid
  if cmp -s "$file" "$file.running"; then return 0; fi
  pid="$(pid_of "$name")"
  if [ -n "$pid" ]; then
    note "restarting $name: $file changed"
    kill "$pid" 2>/dev/null || true
    wait_until 60 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  cp "$file" "$file.running"
}
# wait_for NAME CHECK...: the component answers CHECK in time, or the script stops with its log.
wait_for() {
  local name=$1
  shift
  wait_until "$timeout_s" "$@" || die "$name did not come up within $timeout_s s." "$dir/$name.log"
}

# --- etcd ---------------------------------------------------------------------------------------
mkdir -p "$dir/etcd"
start etcd etcd --name sconectl --data-dir "$dir/etcd" \
  --listen-client-urls "http://$etcd_client" --advertise-client-urls "http://$etcd_client" \
  --listen-peer-urls "http://$etcd_peer" --initial-advertise-peer-urls "http://$etcd_peer" \
  --initial-cluster "sconectl=http://$etcd_peer"
etcd_healthy() { curl -fsS --max-time 2 "http://$etcd_client/health" 2>/dev/null | grep '"health":"true"' >/dev/null; }
wait_for etcd etcd_healthy

# --- containerd (an instance of our own: Docker's keeps its CRI plugin off) ---------------------
pause_image="sconectl.dev/pause:1"
mkdir -p "$dir/containerd/certs.d"
# Pods pull from the local TLS registry (with the password in an imagePullSecret): containerd
# trusts its CA.
registry_env="$("$here/registry.sh" --print-env)" || die "the local registry did not start (scripts/infra/registry.sh)."
eval "$registry_env"
for host in "$REGISTRY" "localhost:${REGISTRY##*:}"; do
  mkdir -p "$dir/containerd/certs.d/$host"
  cp "$REGISTRY_CA" "$dir/containerd/certs.d/$host/ca.crt"
  printf 'server = "https://%s"\n[host."https://%s"]\n  ca = "%s"\n' "$host" "$host" \
    "$dir/containerd/certs.d/$host/ca.crt" >"$dir/containerd/certs.d/$host/hosts.toml"
done
cat >"$dir/containerd/config.toml" <<EOF
# Written by scripts/infra/kubernetes.sh; rewritten on each run.
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
[grpc]
  address = "$containerd_sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # root here lacks CAP_SYS_RESOURCE: without this runc fails every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/containerd/certs.d"
EOF
mkdir -p "$dir/cni"
cat >"$dir/cni/10-sconectl.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "sconectl",
  "plugins": [
    {"type": "bridge", "bridge": "sconectl0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$bridge_ip"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
# The pod bridge exists before the first pod, so a local CAS can listen on the host's address in
# the pod network (10.88.0.1), which is all pods need to reach.
command -v ip >/dev/null || apt_install iproute2
ip link show sconectl0 >/dev/null 2>&1 || ip link add sconectl0 type bridge
ip -4 addr show dev sconectl0 | grep "inet $bridge_ip/" >/dev/null || ip addr add "$bridge_ip/16" dev sconectl0
ip link set sconectl0 up
# Docker sets the FORWARD policy to DROP, and bridged traffic passes iptables here: let pods of
# this bridge reach each other (directly and through Service addresses), nothing more.
if ! iptables -C FORWARD -i sconectl0 -o sconectl0 -j ACCEPT -m comment --comment "sconectl test cluster: pod to pod" 2>/dev/null; then
  iptables -I FORWARD 1 -i sconectl0 -o sconectl0 -j ACCEPT -m comment --comment "sconectl test cluster: pod to pod"
fi
start containerd containerd --config "$dir/containerd/config.toml"
containerd_up() { [ -S "$containerd_sock" ] && ctr --address "$containerd_sock" version >/dev/null 2>&1; }
wait_for containerd containerd_up

# The pause image: a static program that sleeps until signalled, in an image with nothing else.
if ! ctr --address "$containerd_sock" -n k8s.io images ls -q 2>/dev/null | grep -x "$pause_image" >/dev/null; then
  pause="$dir/pause"
  mkdir -p "$pause/rootfs"
  cat >"$pause/pause.c" <<'EOF'
#include <signal.h>
#include <unistd.h>
static void stop(int signal_number) { (void)signal_number; _exit(0); }
int main(void)
{
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  for (;;) pause();
}
EOF
  gcc -static -O2 -o "$pause/rootfs/pause" "$pause/pause.c" >"$pause/build.log" 2>&1 ||
    die "cannot build the pause program (gcc -static)." "$pause/build.log"
  (cd "$pause/rootfs" && tar -cf "$pause/layer.tar" pause)
  layer_digest="$(sha256sum "$pause/layer.tar" | cut -d' ' -f1)"
  mkdir -p "$pause/oci/blobs/sha256"
  cp "$pause/layer.tar" "$pause/oci/blobs/sha256/$layer_digest"
  config='{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:'"$layer_digest"'"]}}'
  printf '%s' "$config" >"$pause/config.json"
  config_digest="$(sha256sum "$pause/config.json" | cut -d' ' -f1)"
  cp "$pause/config.json" "$pause/oci/blobs/sha256/$config_digest"
  manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config_digest"'","size":'"$(stat -c %s "$pause/config.json")"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'"$layer_digest"'","size":'"$(stat -c %s "$pause/layer.tar")"'}]}'
  printf '%s' "$manifest" >"$pause/manifest.json"
  manifest_digest="$(sha256sum "$pause/manifest.json" | cut -d' ' -f1)"
  cp "$pause/manifest.json" "$pause/oci/blobs/sha256/$manifest_digest"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$pause/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"1"}}]}' \
    "$manifest_digest" "$(stat -c %s "$pause/manifest.json")" "$pause_image" >"$pause/oci/index.json"
  (cd "$pause/oci" && tar -cf "$pause/pause-oci.tar" oci-layout index.json blobs)
  ctr --address "$containerd_sock" -n k8s.io images import --index-name "$pause_image" "$pause/pause-oci.tar" \
    >"$pause/import.log" 2>&1 || die "cannot import the pause image into containerd." "$pause/import.log"
fi

# --- control plane ------------------------------------------------------------------------------
start kube-apiserver "$bin/kube-apiserver" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 \
  --etcd-servers="http://$etcd_client" \
  --service-cluster-ip-range="$service_cidr" \
  --client-ca-file="$pki/ca.crt" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/apiserver-kubelet.crt" --kubelet-client-key="$pki/apiserver-kubelet.key" \
  --kubelet-certificate-authority="$pki/ca.crt" \
  --kubelet-preferred-address-types=Hostname \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc \
  --authorization-mode=Node,RBAC --allow-privileged=false
api_up() { curl -fsS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$api/readyz" >/dev/null 2>&1; }
wait_for kube-apiserver api_up

start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig="$dir/controller-manager.kubeconfig" --bind-address=127.0.0.1 \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --use-service-account-credentials=true --controllers='*,-nodeipam' --leader-elect=false
start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig="$dir/scheduler.kubeconfig" --bind-address=127.0.0.1 --leader-elect=false

# --- kubelet ------------------------------------------------------------------------------------
mkdir -p "$dir/kubelet"
cat >"$dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet-server.crt"
tlsPrivateKeyFile: "$pki/kubelet-server.key"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
makeIPTablesUtilChains: false
containerRuntimeEndpoint: "unix://$containerd_sock"
podCIDR: "$pod_cidr"
resolvConf: /etc/resolv.conf
staticPodPath: ""
clusterDNS: ["$bridge_ip"]
clusterDomain: cluster.local
EOF
restart_if_changed kubelet "$dir/kubelet/config.yaml"
start kubelet "$bin/kubelet" --config="$dir/kubelet/config.yaml" --kubeconfig="$dir/kubelet.kubeconfig" \
  --root-dir="$dir/kubelet/root" --hostname-override="$node"
wait_for kubelet node_ready

# --- Services: kube-proxy (iptables) and CoreDNS on the pod bridge's address ---------------------
start kube-proxy "$bin/kube-proxy" --kubeconfig="$dir/kube-proxy.kubeconfig" --proxy-mode=iptables \
  --cluster-cidr="$pod_cidr" --hostname-override="$node" --conntrack-max-per-core=0 \
  --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249
proxy_up() { curl -fsS --max-time 2 http://127.0.0.1:10256/healthz >/dev/null 2>&1; }
wait_for kube-proxy proxy_up
mkdir -p "$dir/coredns"
cat >"$dir/coredns/Corefile" <<EOF
.:53 {
    bind $bridge_ip
    errors
    health 127.0.0.1:18080
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $dir/admin.kubeconfig sconectl
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
EOF
restart_if_changed coredns "$dir/coredns/Corefile"
start coredns "$bin/coredns" -conf "$dir/coredns/Corefile"
dns_up() { curl -fsS --max-time 2 http://127.0.0.1:18080/health >/dev/null 2>&1; }
wait_for coredns dns_up

[ "$mode" = print-env ] && print_facts
exit 0
