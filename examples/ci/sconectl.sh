#!/usr/bin/env bash
# Runs sconectl from its container image on the project in the current directory, as a CI step
# does: `./sconectl.sh validate -f mesh.yaml`. Needs only a Docker CLI and a Docker Engine.
#
# The project directory is mounted at /work and the Docker socket for image builds; the container
# runs as the calling user (the files it writes under target/ are yours) on the host's network
# (a CAS or registry on this machine's loopback answers). Environment:
#   SCONECTL_IMAGE       the image (scripts/ci-image.sh builds it; default sconectl:0.1.0)
#   SCONECTL_CAS_CONFIG  directory with config.json: the client identity the CAS knows this
#                        pipeline by, and the attested CASes (a CI secret; default ~/.cas)
#   DOCKER_CONFIG        directory with the registry credentials, from `docker login` (default ~/.docker)
#   SCONECTL_ENV         names of the variables the manifests read (${NAME} in service.yaml and
#                        mesh.yaml), passed on when set
# Exit code: sconectl's (0 done, 1 failure, 2 invalid input, 3 differences for diff and verify).
set -euo pipefail
image=${SCONECTL_IMAGE:-sconectl:0.1.0}
cas_config=${SCONECTL_CAS_CONFIG:-$HOME/.cas}
docker_config=${DOCKER_CONFIG:-$HOME/.docker}
socket=/var/run/docker.sock

options=(--rm --network host --user "$(id -u):$(id -g)" -e HOME=/tmp -e NO_COLOR=1
  -v "$PWD:/work" -w /work)
if [ -S "$socket" ]; then
  options+=(-v "$socket:$socket" --group-add "$(stat -c %g "$socket")")
fi
if [ -d "$cas_config" ]; then
  options+=(-v "$cas_config:/cas" -e SCONECTL_CAS_CONFIG=/cas)
fi
if [ -d "$docker_config" ]; then
  options+=(-v "$docker_config:/docker-config:ro" -e DOCKER_CONFIG=/docker-config)
fi
read -r -a names <<<"${SCONECTL_ENV:-}"
for name in "${names[@]}"; do
  [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "sconectl.sh: SCONECTL_ENV: '$name' is not a variable name" >&2; exit 2; }
  if [ -n "${!name+set}" ]; then options+=(-e "$name"); fi
done
exec docker run "${options[@]}" "$image" "$@"
