#!/usr/bin/env bash
# Ensures a local OCI registry on 127.0.0.1 with TLS and htpasswd (bcrypt) auth, using Debian's
# docker-registry package (the distribution registry 2.8 binary, run directly: no container image
# can be pulled here). Makes Docker trust it and logs in with a private DOCKER_CONFIG.
# Idempotent and quiet on success.
#
# Usage: scripts/infra/registry.sh [--print-env | --stop]
#   (no option)  ensure the registry answers and Docker is logged in, print nothing
#   --print-env  ensure it, then print (eval-safe) KEY=VALUE lines:
#                  REGISTRY                127.0.0.1:PORT
#                  REGISTRY_CA             the CA certificate (PEM) that signed the registry's certificate
#                  REGISTRY_USER           sconectl
#                  REGISTRY_PASSWORD_FILE  a 0600 file holding the password (no newline)
#                  DOCKER_CONFIG           a docker config directory logged in to REGISTRY; pass it to
#                                          docker (env DOCKER_CONFIG=... or docker --config ...)
#   --stop       stop the registry this script started on PORT (data, certificates and password stay)
#
# Environment:
#   SCONECTL_INFRA_DIR      state directory (default /tmp/sconectl-infra); everything lives in
#                           $SCONECTL_INFRA_DIR/registry and $SCONECTL_INFRA_DIR/docker-config
#   SCONECTL_REGISTRY_PORT  port on 127.0.0.1 (default 5000)
#   SCONECTL_REGISTRY_TIMEOUT  seconds to wait for the registry to answer (default 30)
#
# Files under $SCONECTL_INFRA_DIR/registry (made once, kept across runs):
#   ca.key ca.crt            a private CA (EC P-256, 10 years)
#   server.key server.crt    certificate for IP 127.0.0.1, IP ::1 and DNS localhost, signed by the CA
#   password htpasswd        user sconectl, random password (0600), its bcrypt hash (htpasswd -B)
#   http-secret              the registry's upload-state secret
#   config-PORT.yml registry-PORT.log registry-PORT.pid   per port
#   data/                    the registry's storage (shared by all ports)
# Docker trusts the CA through /etc/docker/certs.d/127.0.0.1:PORT/ca.crt (and localhost:PORT); the
# engine reads that directory on each request, so no restart is needed. ~/.docker is never touched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

parse_mode "$@"

port="${SCONECTL_REGISTRY_PORT:-5000}"
case "$port" in
  '' | *[!0-9]*) die "SCONECTL_REGISTRY_PORT='$port' is not a port number." ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then die "SCONECTL_REGISTRY_PORT=$port is out of range 1-65535."; fi
registry="127.0.0.1:$port"
dir="$INFRA_DIR/registry"
docker_config="$INFRA_DIR/docker-config"
config="$dir/config-$port.yml"
log="$dir/registry-$port.log"
pid_file="$dir/registry-$port.pid"
user="sconectl"
timeout_s="${SCONECTL_REGISTRY_TIMEOUT:-30}"

# HTTP status of GET /v2/ over TLS verified with our CA ("000" when there is no TLS answer at all).
v2_status() {
  curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$dir/ca.crt" "https://$registry/v2/" 2>/dev/null || true
}
registry_answers() { [ -f "$dir/ca.crt" ] && [ "$(v2_status)" = 401 ]; }

our_registry_pid() {
  local pid
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if alive_named "$pid" docker-registry; then echo "$pid"; fi
}

stop_our_registry() {
  local pid
  pid="$(our_registry_pid)"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait_until 15 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

logged_in() {
  # `docker login` stores the credentials in config.json (no credential helper is configured here).
  grep -q "\"$registry\"" "$docker_config/config.json" 2>/dev/null
}

print_facts() {
  print_env REGISTRY "$registry" \
    REGISTRY_CA "$dir/ca.crt" \
    REGISTRY_USER "$user" \
    REGISTRY_PASSWORD_FILE "$dir/password" \
    DOCKER_CONFIG "$docker_config"
}

trusted_by_docker() {
  cmp -s "$dir/ca.crt" "/etc/docker/certs.d/$registry/ca.crt" &&
    cmp -s "$dir/ca.crt" "/etc/docker/certs.d/localhost:$port/ca.crt"
}

if [ "$mode" = stop ]; then
  take_lock "registry-$port" 120
  stop_our_registry
  exit 0
fi

# Fast path: everything is in place.
if registry_answers && trusted_by_docker && logged_in && timeout 20 docker info >/dev/null 2>&1; then
  [ "$mode" = print-env ] && print_facts
  exit 0
fi

require_root
# docker login needs an engine; docker.sh is quiet and fast when one answers.
"$here/docker.sh"
take_lock "registry-$port" 300

for tool in docker-registry:docker-registry htpasswd:apache2-utils openssl:openssl curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || apt_install "${tool#*:}"
done
# On a systemd machine, installing Debian's docker-registry starts its own service on :5000 (all
# interfaces, different config). It is not ours: keep it from holding the port.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
  systemctl is-enabled docker-registry >/dev/null 2>&1; then
  timeout 60 systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

mkdir -p "$dir/data"
chmod 0755 "$dir" # ca.crt is for everyone; the keys, password and htpasswd are 0600 (umask below)
umask 077

# --- certificates (once) ------------------------------------------------------------------------
openssl_log="$dir/openssl.log"
if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
  note "making a CA"
  rm -f "$dir/server.crt" "$dir/server.key"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=sconectl test registry CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key.tmp" -out "$dir/ca.crt.tmp" >"$openssl_log" 2>&1 ||
    die "openssl could not make the CA certificate." "$openssl_log"
  mv "$dir/ca.key.tmp" "$dir/ca.key"
  mv "$dir/ca.crt.tmp" "$dir/ca.crt"
fi
if [ ! -s "$dir/server.crt" ] || [ ! -s "$dir/server.key" ] ||
  ! openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null 2>&1 ||
  ! openssl x509 -checkend 86400 -noout -in "$dir/server.crt" >/dev/null 2>&1; then
  note "making the server certificate"
  # Go (the registry and the docker engine) checks subjectAltName only, never the CN: 127.0.0.1 must
  # be an IP SAN. 825 days is the longest validity that clients accept for a server certificate.
  ext="$dir/server.ext"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -subj "/CN=127.0.0.1" -keyout "$dir/server.key.tmp" -out "$dir/server.csr" >"$openssl_log" 2>&1 ||
    die "openssl could not make the registry's certificate request." "$openssl_log"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days 825 -extfile "$ext" -out "$dir/server.crt.tmp" >>"$openssl_log" 2>&1 ||
    die "openssl could not make the registry's server certificate." "$openssl_log"
  mv "$dir/server.key.tmp" "$dir/server.key"
  mv "$dir/server.crt.tmp" "$dir/server.crt"
  rm -f "$dir/server.csr" "$ext"
  stop_our_registry # it still serves the old certificate
fi
chmod 0644 "$dir/ca.crt"

# --- password and htpasswd (once) -----------------------------------------------------------------
if [ ! -s "$dir/password" ] || [ ! -s "$dir/htpasswd" ] ||
  ! htpasswd -v -i "$dir/htpasswd" "$user" <"$dir/password" >/dev/null 2>&1; then
  note "making the password"
  openssl rand -hex 16 | tr -d '\n' >"$dir/password.tmp"
  mv "$dir/password.tmp" "$dir/password"
  # -B bcrypt (the registry accepts only bcrypt), -i reads the password from stdin (not argv).
  htpasswd -B -i -c "$dir/htpasswd.tmp" "$user" <"$dir/password" >/dev/null 2>&1 ||
    die "htpasswd could not write $dir/htpasswd."
  mv "$dir/htpasswd.tmp" "$dir/htpasswd"
  rm -rf "$docker_config" # its login used the old password
  stop_our_registry       # the registry reads htpasswd once at start-up
fi
chmod 0600 "$dir/password" "$dir/htpasswd"
[ -s "$dir/http-secret" ] || openssl rand -hex 32 | tr -d '\n' >"$dir/http-secret"

# --- config (rewritten each run; cheap and keeps it in step with this script) --------------------
cat >"$config.tmp" <<EOF
# Written by scripts/infra/registry.sh; rewritten on each run.
version: 0.1
log:
  level: info
  fields:
    service: sconectl-test-registry
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  secret: $(cat "$dir/http-secret")
  tls:
    certificate: $dir/server.crt
    key: $dir/server.key
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: sconectl-test-registry
    path: $dir/htpasswd
EOF
if ! cmp -s "$config.tmp" "$config"; then
  mv "$config.tmp" "$config"
  stop_our_registry # it still runs with the old config
else
  rm -f "$config.tmp"
fi

# --- start ----------------------------------------------------------------------------------------
if ! registry_answers; then
  pid="$(our_registry_pid)"
  if [ -n "$pid" ]; then
    # ours, alive but not answering: maybe still starting; then replace it.
    wait_until "$timeout_s" registry_answers || stop_our_registry
  fi
fi
if ! registry_answers; then
  status="$(v2_status)"
  if [ "$status" != 000 ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "something else listens on 127.0.0.1:$port (GET /v2/ with our CA gives HTTP $status, not 401): it is not the registry this script manages. Stop it, or choose another port with SCONECTL_REGISTRY_PORT."
  fi
  printf '\n===== %s: docker-registry serve %s\n' "$(date -u +%FT%TZ)" "$config" >>"$log"
  # The registry reads REGISTRY_* environment variables as config overrides (REGISTRY_HTTP_ADDR...);
  # a caller's REGISTRY=..., REGISTRY_CA=... from --print-env must not leak into it.
  unset_args=()
  while IFS= read -r name; do unset_args+=(-u "$name"); done < <(compgen -e | grep '^REGISTRY' || true)
  # setsid + all fds redirected + lock fd closed: it outlives this script and never holds a caller's pipe.
  setsid env "${unset_args[@]}" docker-registry serve "$config" >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  disown "$pid" 2>/dev/null || true
  echo "$pid" >"$pid_file"
  # shellcheck disable=SC2317 # called through wait_until
  up_or_dead() { registry_answers || gone "$pid"; }
  wait_until "$timeout_s" up_or_dead || true
  if ! registry_answers; then
    stop_our_registry
    die "the registry did not answer https://$registry/v2/ with 401 within ${timeout_s} s (last answer: HTTP $(v2_status))." "$log"
  fi
fi

# --- Docker trusts the CA -------------------------------------------------------------------------
umask 022
for name in "$registry" "localhost:$port"; do
  mkdir -p "/etc/docker/certs.d/$name"
  cmp -s "$dir/ca.crt" "/etc/docker/certs.d/$name/ca.crt" || install -m 0644 "$dir/ca.crt" "/etc/docker/certs.d/$name/ca.crt"
done

# --- docker login with a private config ------------------------------------------------------------
if ! logged_in; then
  mkdir -p "$docker_config"
  chmod 0700 "$docker_config"
  # An explicit empty config: no credential helper, so credentials go to config.json in this directory.
  [ -s "$docker_config/config.json" ] || printf '{\n  "auths": {}\n}\n' >"$docker_config/config.json"
  login_log="$dir/login.log"
  DOCKER_CONFIG="$docker_config" timeout 60 docker login "$registry" --username "$user" --password-stdin \
    <"$dir/password" >"$login_log" 2>&1 ||
    die "docker login $registry failed although the registry answers; the engine may not trust /etc/docker/certs.d/$registry/ca.crt." "$login_log"
  chmod 0600 "$docker_config/config.json"
fi

[ "$mode" = print-env ] && print_facts
exit 0
