#!/usr/bin/env python3
"""Writes a mesh of N services as `sconectl apply -f service.yaml` would leave it, without Docker.

    bench/gen_mesh.py DIR N [ring|star]

DIR/mesh.yaml names N services; DIR/target/services/<name>.json holds each service's descriptor
(format 1, docs/target-layout.md) with made-up image ids, digests and measurements. Every service
defines secrets and has an injection file. In a ring (the default) each imports a secret from its
predecessor, so the generated policies exercise imports, exports and certificates at every size,
and each session's upload waits for its predecessor's. In a star, svc-0000 exports a secret to
the namespace and every other service imports it (one database, many clients): after svc-0000,
the others can be uploaded at once.
"""
import hashlib
import json
import os
import sys


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def service(i, n, shape="ring"):
    name = f"svc-{i:04d}"
    prev = f"svc-{(i - 1) % n:04d}"
    nxt = f"svc-{(i + 1) % n:04d}"
    metadata = {
        "name": name,
        "command": ["python3", "main.py", "--id", str(i)],
        "pwd": "/app",
        "environment": {
            "local": [
                {"name": "SCONE_HEAP", "value": "256M"},
                {"name": "PASSWORD", "value": f"$$SCONE::pw_{i}$$"},
                {"name": "PEER", "value": "{{RELEASE}}-" + nxt},
            ],
            "global": [{"name": "API_USER"}, {"name": "LEVEL", "value": "info"}],
        },
        "secrets": [
            {"name": f"pw_{i}", "kind": "ascii", "size": 16,
             "export": [{"session": f"../{nxt}"}] if shape == "ring" else
                       [{"namespace": "{{namespace}}"}] if i == 0 else []},
            {"name": f"key_{i}", "kind": "private-key"},
            {"name": f"ca_{i}", "kind": "x509-ca", "private_key": f"key_{i}",
             "export": [{"namespace": "{{namespace}}"}]},
            {"name": f"cert_{i}", "kind": "x509", "private_key": f"key_{i}", "issuer": f"ca_{i}",
             "dns": [name]},
        ] if n > 1 else [{"name": f"pw_{i}", "kind": "ascii", "size": 16}],
        "imported_secrets": ([f"pw_{(i - 1) % n}"] if shape == "ring" else
                             ["pw_0"] if i > 0 else []) if n > 1 else [],
        "injection_files": [{"path": "/app/peer.conf",
                             "content": "peer={{RELEASE}}-" + prev + "\nlevel={{LEVEL}}\n"}],
        "volumes": [],
    }
    descriptor = {
        "format": 1,
        "kind": "ServiceDescriptor",
        "name": name,
        "image": {
            "reference": f"registry.example.com/bench/{name}:1",
            "id": "sha256:" + digest(name + " id"),
            "digest": "sha256:" + digest(name + " digest"),
            "base": "registry.example.com/base/python:1",
        },
        "measurement": {"method": "content", "value": digest(name)},
        "mode": "production",
        "input_digest": "sha256:" + digest(name + " inputs"),
        "sconectl_version": "0.1.0",
        "service": metadata,
    }
    return name, descriptor


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    shape = sys.argv[3] if len(sys.argv) > 3 else "ring"
    if shape not in ("ring", "star"):
        sys.exit("shape: ring or star")
    services_dir = os.path.join(out, "target", "services")
    os.makedirs(services_dir, exist_ok=True)
    lines = [
        "apiVersion: scone/5.8",
        "kind: mesh",
        "cas:",
        "  - name: cas",
        "    cas_url: cas.example.com",
        "    mode: NoUpload",
        "policy:",
        f"  namespace: bench-{n}",
        '  tolerate: "outdated-tcb"',
        "env:",
        "  - service: global",
        "    env:",
        "      - name: API_USER",
        "        value: bench-user",
        "      - name: RELEASE",
        "        value: bench",
        "      - name: imagePullSecrets",
        "        value: sconeapps",
        "services:",
    ]
    for i in range(n):
        name, descriptor = service(i, n, shape)
        with open(os.path.join(services_dir, name + ".json"), "w") as f:
            json.dump(descriptor, f, indent=2)
        lines += [f"  - name: {name}", f"    image: {descriptor['image']['reference']}"]
    with open(os.path.join(out, "mesh.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
