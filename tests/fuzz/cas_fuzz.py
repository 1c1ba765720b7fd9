#!/usr/bin/env python3
"""Seeded, bounded mutation fuzzer for the local CAS (`sconectl cas serve`) over TLS.

It starts a local CAS in a temporary data directory and sends it, over mutual TLS on loopback,
two kinds of mutants:

  * HTTP framing: request lines, header fields, Content-Length, Transfer-Encoding (chunked with
    odd sizes and extensions), Content-Encoding, Expect, pipelining and truncation, built from
    valid requests by byte and field mutations;
  * upload bodies: session files (tests/fuzz/seeds/sessions and the session corpus, when present)
    mutated by the YAML mutators of mutate.py (aliases, nesting, documents, long strings...) and
    POSTed to /v1/sessions.

A mutant is flagged when:

  * the server process ends (a crash), or prints a sanitizer report;
  * it neither answers nor closes the connection within --timeout seconds (a hang);
  * it answers with something that is not an HTTP/1.1 status line, or with a 5xx;
  * it answers 2xx to framing that must be refused (two different Content-Lengths,
    Transfer-Encoding with Content-Length, a compressed body);
  * after the mutant, GET /v1/version is not answered within one second (the CAS stopped
    serving others);
  * the server's resident memory grows beyond --max-rss-mib.

Python 3 standard library and the `openssl` command only. Deterministic for a given --seed (apart
from timing). Exits 1 when anything was flagged, 0 otherwise; prints the run count and findings.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import mutate as yaml_mutator  # noqa: E402  (the YAML mutators, shared with the CLI fuzzer)

SANITIZER_MARKERS = ("runtime error:", "AddressSanitizer", "LeakSanitizer",
                     "UndefinedBehaviorSanitizer")
STATUS_RE = re.compile(rb"^HTTP/1\.1 (\d{3}) ")

SESSION = b"""version: "0.3.10"
name: "fuzz-SUFFIX"
services:
  - name: "app"
    command: "python3 /app/main.py"
    pwd: "/"
    environment:
      API_USER: "myself"
      API_PASSWORD: "$$SCONE::password$$"
    attestation:
      mrenclave: ["609b960d94b4ae5ae0d0246304125d5e05fecfb72a8704ddb0abbae4529a91ab"]
security:
  attestation:
    tolerate: [debug-mode, hyperthreading, outdated-tcb, software-hardening-needed, simulation]
    ignore_advisories: "*"
secrets:
  - name: "password"
    kind: "ascii"
    size: 16
"""


def request(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = method + b" " + target + b" HTTP/1.1\r\nHost: cas\r\n"
    for name, value in headers:
        head += name + b": " + value + b"\r\n"
    return head + b"\r\n" + body


def chunked(body: bytes, rng: random.Random) -> bytes:
    out = b""
    at = 0
    while at < len(body):
        size = rng.randint(1, max(1, len(body) - at))
        ext = rng.choice([b"", b";a=b", b" ;x", b";" + b"e" * rng.randint(1, 2000)])
        out += b"%x" % size + ext + b"\r\n" + body[at:at + size] + b"\r\n"
        at += size
    return out + b"0\r\n" + rng.choice([b"", b"X-T: 1\r\n"]) + b"\r\n"


def framing_seeds(rng: random.Random) -> list[bytes]:
    body = SESSION.replace(b"SUFFIX", str(rng.randint(0, 10**6)).encode())
    yaml_type = (b"Content-Type", b"application/yaml")
    return [
        request(b"GET", b"/v1/version", [], b""),
        request(b"GET", b"/v1/sessions/fuzz-1?hash=00", [], b""),
        request(b"GET", b"/v1/attestation/nonce", [], b""),
        request(b"HEAD", b"/v1/values/session=fuzz-1,secret=password", [], b""),
        request(b"POST", b"/v1/sessions", [yaml_type, (b"Content-Length", b"%d" % len(body))], body),
        request(b"POST", b"/v1/sessions",
                [yaml_type, (b"Transfer-Encoding", b"chunked")], chunked(body, rng)),
        request(b"POST", b"/v1/sessions", [yaml_type, (b"Expect", b"100-continue"),
                                           (b"Content-Length", b"%d" % len(body))], body),
        request(b"GET", b"/v1/version", [], b"") * 3,
    ]


HEADER_VALUES = [b"0", b"-1", b"18446744073709551616", b"1, 2", b"chunked", b"gzip",
                 b"chunked, gzip", b"identity", b"100-continue", b"close", b"keep-alive",
                 b"\x00", b"\xff\xfe", b"a" * 9000, b"9" * 40, b" 5 ", b"0x10"]
HEADER_NAMES = [b"Content-Length", b"Transfer-Encoding", b"Content-Encoding", b"Expect",
                b"Connection", b"Content-Type", b"Host", b"X" * 300, b"Bad Name", b""]


def mutate_framing(data: bytes, rng: random.Random) -> tuple[bytes, bool]:
    """A mutant, and whether its framing is one that must never be accepted with a 2xx."""
    must_refuse = False
    for _ in range(rng.choice([1, 1, 2, 3])):
        choice = rng.randrange(9)
        head_end = data.find(b"\r\n\r\n")
        head_end = len(data) if head_end < 0 else head_end
        if choice == 0 and data:
            at = rng.randrange(len(data))
            data = data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
        elif choice == 1:
            at = rng.randrange(head_end + 1)
            field = rng.choice(HEADER_NAMES) + b": " + rng.choice(HEADER_VALUES) + b"\r\n"
            line_start = data.rfind(b"\r\n", 0, at)
            at = 0 if line_start < 0 else line_start + 2
            if at == 0:
                at = data.find(b"\r\n") + 2 if b"\r\n" in data else 0
            data = data[:at] + field + data[at:]
        elif choice == 2 and b"Content-Length: " in data:
            data = data.replace(b"\r\n\r\n", b"\r\nContent-Length: %d\r\n\r\n"
                                % rng.randint(0, 10**7), 1)
            must_refuse = must_refuse or True
        elif choice == 3 and b"Content-Length: " in data:
            data = data.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n", 1)
            must_refuse = True
        elif choice == 4:
            data = data.replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n", 1)
            must_refuse = True
        elif choice == 5:
            data = data[:rng.randrange(len(data) + 1)]
        elif choice == 6:
            data = data.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\n\r\n", b"\r\n "]), 1)
        elif choice == 7:
            at = rng.randrange(len(data) + 1)
            data = data[:at] + os.urandom(rng.randint(1, 64)) + data[at:]
        else:
            data = data + data[:rng.randrange(len(data) + 1)]
    return data, must_refuse and must_be_refused(data)


def must_be_refused(data: bytes) -> bool:
    """Whether the first request's head frames its body ambiguously or compressed: two different
    Content-Lengths, Transfer-Encoding with Content-Length, or a Content-Encoding."""
    head = data.split(b"\r\n\r\n", 1)[0]
    fields = [line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line]
    values = {}
    for name, value in fields:
        values.setdefault(name.strip().lower(), []).append(value.strip())
    lengths = set(values.get(b"content-length", []))
    return (len(lengths) > 1
            or (bool(lengths) and b"transfer-encoding" in values)
            or any(v.lower() not in (b"", b"identity") for v in values.get(b"content-encoding", [])))


class Cas:
    def __init__(self, binary: str, base: Path, max_body: int):
        self.base = base
        self.log = open(base / "cas.log", "w+b")
        self.process = subprocess.Popen(
            [binary, "cas", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(base / "data"),
             "--max-body-bytes", str(max_body), "--header-timeout", "2", "--body-timeout", "4"],
            stdout=subprocess.PIPE, stderr=self.log)
        announced = {}
        while len(announced) < 3:
            line = self.process.stdout.readline().decode()
            if not line:
                raise RuntimeError("the local CAS did not start: "
                                   + (base / "cas.log").read_text(errors="replace"))
            key, _, value = line.strip().partition("=")
            announced[key] = value
        host, _, port = announced["CAS_ADDR"].rpartition(":")
        self.port = int(port)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=fuzz", "-days", "1",
                        "-keyout", str(base / "client.key"), "-out", str(base / "client.crt")],
                       check=True, capture_output=True)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.check_hostname = False
        self.context.load_verify_locations(announced["CAS_CERT"])
        self.context.load_cert_chain(base / "client.crt", base / "client.key")

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def exchange(self, data: bytes, timeout: float) -> tuple[str, bytes]:
        """('answered', first bytes) | ('closed', b'') | ('hang', b'') | ('refused', b'')."""
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        except OSError:
            return "refused", b""
        try:
            with self.context.wrap_socket(raw) as tls:
                try:
                    tls.sendall(data)
                except OSError:
                    pass
                received = b""
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    try:
                        chunk = tls.recv(65536)
                    except socket.timeout:
                        return "hang", received
                    except (OSError, ssl.SSLError):
                        break
                    if not chunk:
                        break
                    received += chunk
                    if STATUS_RE.match(received) and b"\r\n\r\n" in received \
                            and not received.startswith(b"HTTP/1.1 100 "):
                        return "answered", received
                    if received.startswith(b"HTTP/1.1 100 ") and received.count(b"\r\n\r\n") > 1:
                        return "answered", received.split(b"\r\n\r\n", 1)[1]
                else:
                    return "hang", received
                return ("answered" if received else "closed"), received
        except (OSError, ssl.SSLError):
            return "closed", b""

    def last_error(self) -> str:
        """The last error the CAS logged (what a 5xx came from)."""
        self.log.flush()
        text = (self.base / "cas.log").read_text(errors="replace")
        errors = [line for line in text.splitlines() if "[error]" in line or "exception" in line]
        return errors[-1][-200:] if errors else ""

    def stop(self) -> str:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def session_seeds() -> list[bytes]:
    seeds = [SESSION]
    for folder in (HERE / "seeds" / "sessions", HERE.parent / "corpus" / "sessions"):
        if folder.is_dir():
            seeds += [p.read_bytes() for p in sorted(folder.glob("*.yaml"))]
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="path of the sconectl binary")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--timeout", type=float, default=8.0,
                        help="seconds to wait for an answer or a close (above the CAS's timeouts)")
    parser.add_argument("--max-body-bytes", type=int, default=256 * 1024)
    parser.add_argument("--max-rss-mib", type=float, default=512.0)
    parser.add_argument("--crashes", type=Path, default=None,
                        help="save the first input of each finding here (one file each)")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="sconectl-cas-fuzz-"))
    cas = Cas(os.path.abspath(args.binary), base, args.max_body_bytes)
    sessions = session_seeds()
    findings: dict[str, int] = {}
    statuses: dict[str, int] = {}
    start = time.monotonic()
    iterations = 0

    def flag(kind: str, detail: str, data: bytes) -> None:
        key = f"{kind}: {detail}"
        findings[key] = findings.get(key, 0) + 1
        if findings[key] == 1:
            print(f"[{iterations}] {key}\n    input: {data[:300]!r}", file=sys.stderr, flush=True)
            if args.crashes:
                args.crashes.mkdir(parents=True, exist_ok=True)
                name = "cas-" + re.sub(r"[^a-z0-9]+", "-", key.lower())[:60] + ".http"
                (args.crashes / name).write_bytes(data)

    try:
        for iteration in range(args.iterations):
            if time.monotonic() - start >= args.max_seconds or not cas.alive():
                break
            iterations += 1
            if rng.random() < 0.5:
                data, must_refuse = mutate_framing(rng.choice(framing_seeds(rng)), rng)
            else:
                body, _ = yaml_mutator.mutate(rng.choice(sessions), rng, {"corpus": sessions})
                body = body.replace(b"SUFFIX", str(iteration).encode())
                data = request(b"POST", b"/v1/sessions",
                               [(b"Content-Type", b"application/yaml"),
                                (b"Content-Length", b"%d" % len(body))], body)
                must_refuse = False
            outcome, received = cas.exchange(data, args.timeout)
            match = STATUS_RE.match(received)
            status = match.group(1).decode() if match else outcome
            statuses[status] = statuses.get(status, 0) + 1
            if outcome == "hang":
                flag("hang", "no answer and no close", data)
            elif outcome == "answered" and not match:
                flag("not-http", repr(received[:40]), data)
            elif match and status.startswith("5") and status not in ("501", "505", "503"):
                flag("server-error", status + " " + cas.last_error(), data)
            elif match and status.startswith("2") and must_refuse:
                flag("accepted-ambiguous-framing", status, data)
            if not cas.alive():
                flag("crash", f"the CAS ended with {cas.process.returncode}", data)
                break
            probe = time.monotonic()
            outcome, received = cas.exchange(request(b"GET", b"/v1/version", [], b""), 1.0)
            if not STATUS_RE.match(received) or time.monotonic() - probe > 1.0:
                flag("unresponsive", "GET /v1/version not answered within 1 s", data)
            rss = cas.rss_mib()
            if rss > args.max_rss_mib:
                flag("memory", f"resident memory {rss:.0f} MiB", data)
            if (iteration + 1) % 500 == 0:
                print(f"... {iteration + 1} mutants, {time.monotonic() - start:.0f}s, "
                      f"{len(findings)} distinct findings, RSS {rss:.0f} MiB",
                      file=sys.stderr, flush=True)
    finally:
        log = cas.stop()
        shutil.rmtree(base, ignore_errors=True)
    for marker in SANITIZER_MARKERS:
        if marker in log:
            findings[f"sanitizer: {marker}"] = 1
    print(f"cas_fuzz.py: seed {args.seed}: {iterations} mutants in "
          f"{time.monotonic() - start:.1f}s; {len(findings)} distinct findings")
    print("answers: " + ", ".join(f"{k}x{v}" for k, v in sorted(statuses.items())))
    for key, count in sorted(findings.items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {key}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
