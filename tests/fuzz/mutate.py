#!/usr/bin/env python3
"""Seeded, bounded mutation fuzzer for `sconectl validate` and `sconectl apply -p`.

Every mutant of a seed manifest is run as

    sconectl validate -f FILE
    sconectl apply -p -f FILE

in a fresh temporary working directory with a fixed environment. A run is flagged when

  * the exit code is not 0 (valid) or 2 (invalid input), or the process died from a signal;
  * it did not finish within --timeout seconds (a hang);
  * stderr carries a sanitizer report ("runtime error:", "AddressSanitizer", ...);
  * the file was rejected (exit 2) but something was printed on stdout (text mode);
  * text of an explicit secret `value` from the seed shows up in stderr or stdout.

Flagged inputs are minimised by line deletion and saved under --crashes (one directory per
distinct signature) together with a note of the command, exit code and output.

Python 3 standard library only. Deterministic for a given --seed (apart from timing). It stops
after --iterations mutants or --max-seconds, whichever comes first, and exits 1 when anything
was flagged, 0 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FIXTURES = Path("/work/shared/fixtures/hello-world")

ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "APP_IMAGE_REPO": "127.0.0.1:5000/demo",
    "RELEASE": "rel",
    "APP_NAMESPACE": "ns-1",
    "CAS_URL": "cas.example",
    "UPLOAD_MODE": "Upload",
    "CAS_SESSION_ENCRYPTION_KEY": "8f0e1c7a2b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b",
    "CAS_KEY": "3Hkve6rTdWCmTC6UGzDKK8MmCo5NtX78nunoDqGdagdmRyM2dm",
}

COMMANDS = {
    "validate": ["validate", "-f"],
    "apply-p": ["apply", "-p", "-f"],
}

SANITIZER_MARKERS = (
    "runtime error:",
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "ThreadSanitizer",
    "MemorySanitizer",
)

# Keys under which a `value:` is NOT a secret (environment values may legitimately be echoed).
NON_SECRET_ANCESTORS = {"environment", "env", "injection_files", "build", "cas", "policy", "repo",
                        "helm_extra_values", "local"}

OUTPUT_LIMIT = 1 << 20  # bytes of stdout/stderr kept per run


# --------------------------------------------------------------------------------------------
# Seeds


@dataclasses.dataclass
class Seed:
    name: str                    # label, e.g. "fixtures/mesh.yaml.template"
    main: str                    # file name passed to -f
    files: dict[str, bytes]      # every file written into the working directory
    secret_windows: list[str]    # fragments of explicit secret values
    mutable: list[str]           # files the mutator may change (main first)


KEY_RE = re.compile(r"^(\s*)((?:-\s+)*)([A-Za-z_][\w.-]*)\s*:(?:\s|$)")
DASH_RE = re.compile(r"^(\s*)((?:-\s+)*)")


def _indents(line: str) -> tuple[int, int]:
    """(indent of the first structural char, indent of the key after any '- ')."""
    m = DASH_RE.match(line)
    return len(m.group(1)), len(m.group(1)) + len(m.group(2))


def _own_key(line: str) -> str | None:
    m = KEY_RE.match(line)
    return m.group(3) if m else None


def _is_blank(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def line_ancestry(lines: list[str], index: int) -> list[str]:
    """Keys of the enclosing mappings of line `index`, innermost first (indentation heuristic;
    block-scalar content lines get the key that introduces the block as first ancestor)."""
    keys: list[str] = []
    threshold, _ = _indents(lines[index])
    for j in range(index - 1, -1, -1):
        line = lines[j]
        if _is_blank(line):
            continue
        _, key_indent = _indents(line)
        if key_indent < threshold:
            key = _own_key(line)
            if key is not None:
                keys.append(key)
            threshold, _ = _indents(line)
            if threshold == 0:
                break
    return keys


def in_secret_value(lines: list[str], index: int, bare_secret_list: bool) -> bool:
    own = _own_key(lines[index])
    ancestors = line_ancestry(lines, index)
    first = own if own is not None else (ancestors[0] if ancestors else None)
    if first != "value":
        return False
    rest = ancestors if own is not None else ancestors[1:]
    if any(a in NON_SECRET_ANCESTORS for a in rest):
        return False
    return bare_secret_list or "secrets" in rest


def extract_secret_values(text: str, bare_secret_list: bool) -> list[str]:
    """Explicit secret values of a seed: inline `value: X` and block-scalar content lines."""
    lines = text.splitlines()
    values: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _own_key(line) == "value" and in_secret_value(lines, i, bare_secret_list):
            rest = line.split(":", 1)[1].strip()
            if rest[:1] in ("|", ">"):
                _, key_indent = _indents(line)
                i += 1
                while i < len(lines) and (not lines[i].strip()
                                          or _indents(lines[i])[0] > key_indent):
                    if lines[i].strip():
                        values.append(lines[i].strip())
                    i += 1
                continue
            if " #" in rest and not rest.startswith(("\"", "'")):
                rest = rest.split(" #", 1)[0].strip()
            if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
                rest = rest[1:-1]
            if rest:
                values.append(rest)
        i += 1
    return values


def secret_windows(values: list[str], width: int = 20) -> list[str]:
    """Every `width`-character piece of each value (whole values when shorter). Wide enough that
    ordinary English in diagnostics (' characters ') does not match the fixture's prose secret."""
    windows: set[str] = set()
    for value in values:
        if len(value) <= width:
            if len(value) >= 5:
                windows.add(value)
            continue
        for k in range(0, len(value) - width + 1):
            windows.add(value[k:k + width])
    return sorted(windows)


def image_secrets_refs(text: str) -> list[str]:
    return re.findall(r"^\s*(?:-\s+)?image_secrets:\s*[\"']?([^\s\"'#]+)", text, re.M)


def load_seed(path: Path, label: str) -> Seed:
    files = {path.name: path.read_bytes()}
    text = files[path.name].decode("utf-8", "replace")
    companions = []
    for ref in image_secrets_refs(text):
        companion = path.parent / ref
        if companion.is_file() and "/" not in ref:
            files[ref] = companion.read_bytes()
            companions.append(ref)
    requirements = path.parent / "requirements.txt"
    if requirements.is_file():
        files.setdefault("requirements.txt", requirements.read_bytes())
    values = extract_secret_values(text, bare_secret_list=False)
    for ref in companions:
        values += extract_secret_values(files[ref].decode("utf-8", "replace"), True)
    return Seed(name=label, main=path.name, files=files, secret_windows=secret_windows(values),
                mutable=[path.name] + companions)


def load_seeds(fixtures: Path, seeds_dir: Path) -> list[Seed]:
    seeds = []
    for name in ("service.yaml.template", "mesh.yaml.template"):
        if (fixtures / name).is_file():
            seeds.append(load_seed(fixtures / name, f"fixtures/{name}"))
    if seeds_dir.is_dir():
        all_paths = sorted(seeds_dir.glob("*.yaml"))
        referenced = set()
        for p in all_paths:
            referenced.update(image_secrets_refs(p.read_text("utf-8", "replace")))
        for p in all_paths:
            if p.name not in referenced:
                seeds.append(load_seed(p, f"seeds/{p.name}"))
    if not seeds:
        sys.exit("mutate.py: no seeds found")
    return seeds


# --------------------------------------------------------------------------------------------
# Mutations (bytes in, bytes out)

YAML_TOKENS = [
    b"&a ", b"*a", b"!!binary ", b"{", b"}", b"[", b"]", b"? ", b"---\n", b"...\n",
    b"%YAML 1.2\n", b"%YAML 1.1\n---\n", b"%TAG ! tag:example.com,2000:\n", b"\t", b"\0",
    b"!!str ", b"!!int ", b"!!map ", b"!!seq ", b"!!null ", b"!!float ", b"!<tag:x> ", b"!local ",
    b"<<: *a\n", b"|", b"|+", b"|-9", b">-", b">+2", b"\"", b"'", b"#", b": ", b"- ", b"~",
    b",", b"@", b"`", b"\\", b"\\u0000", b"\\x00", b"\"\\", b"\r", b"\r\n", b"\x85", b"&a [*a]",
    b"&x {k: *x}", b"? [a, b]\n: c\n", b"!!binary |\n  AAAA\n", b"{a: 1, a: 2}", b"null",
]

VARIABLE_FRAGMENTS = [
    "$VAR", "${", "${}", "$", "$$", "$$$$", "$$SCONE::", "$$SCONE::$$", "$$SCONE::password$$",
    "$$SCONE::svc_cert:crt$$", "$$SCONE::svc_cert.crt$$", "$$SCONE::x:y:z|base64$$",
    "$$SCONE::password|hex$$", "$$SCONE::password:|$$", "$$SCONE::" + "a" * 300 + "$$",
    "${APP_NAMESPACE", "${APP_NAMESPACE}", "$APP_NAMESPACE", "${UNDEFINED_FUZZ_VAR}",
    "$UNDEFINED_FUZZ_VAR", "${A:-default}", "${A:?err}", "$1", "$?", "$$SCONE::$$SCONE::",
    "${${RELEASE}}", "$RELEASE$RELEASE", "$$SCONE::{{x}}$$", "$\0", "${\0}", "$é", "${é}",
    "$$SCONE::password$", "$$SCONE:password$$", "$$SCONE::password:crt:crt$$",
]

TEMPLATE_FRAGMENTS = [
    "{{x}}", "{{", "}}", "{{ namespace }}", "{{{x}}}", "{{x", "{{}}", "{{-x-}}",
    "{{cas.cas.cas_url}}", "{{namespace}}", "{{ " * 50, "{{" + "x" * 500 + "}}", "{{$VAR}}",
    "{{$$SCONE::password$$}}", "{{\0}}", "{{é}}", "{{x|y}}", "{{ x.y.z }}",
]

UNICODE_FRAGMENTS = [
    "\ufeff", "\u2028", "\u2029", "\u202e", "\u200b", "\u00a0", "\uff1a", "\U0001f600",
    "e\u0301" * 20, "\ufffe", "\uffff", "\u0085", "\u3000", "Ω", "ß", "İ", "\U0010ffff",
]

RAW_BYTE_FRAGMENTS = [b"\xc0\xaf", b"\xed\xa0\x80", b"\xff\xfe", b"\xef\xbb\xbf", b"\xf4\x90\x80\x80",
                      b"\x80", b"\xe2\x82", b"\xf0\x9f\x98"]

INTERESTING_BYTES = b"\x00\xff\x80\t\n\r\"':-#&*!|>{}[],?%@`\\$ \x7f\x01"

INTERESTING_SCALARS = [
    "", "\"\"", "''", "~", "null", "Null", "NULL", "true", "false", "yes", "no", "on", "off", "y",
    "n", "0", "-1", "-0", "1e309", "-1e309", ".inf", "-.inf", ".nan", "0x7fffffffffffffff",
    "18446744073709551616", "99999999999999999999999999999999", "-9223372036854775809",
    "0o777", "1_000", "3.14", "1:20", "2001-12-14t21:59:43.10-05:00", "scone/5.8",
    "scone/99999999999999999999.0", "scone/5.7", "scone/", "scone/5.8.0-rc1", "scone/5..8",
    "scone/-1", "genservice", "mesh", "genAppImage", "ascii", "binary", "x509", "x509-ca",
    "private-key", "public-key", "aad-token", "pgp-key", "P-256", "RSA-3072", "server", "client",
    "Upload", "SignOnline", "EncryptedManifest", "python", "sconify_image", "java", "*", "-",
    "/dev/zero", "/dev/urandom", "/dev/stdin", "/proc/self/fd/0", ".", "..", "/", "mesh.yaml.template",
    "service.yaml.template", "nonexistent.yaml", "../../../../etc/passwd", "a/../../b",
    "secrets_example.yaml", "\"\\x00\"", "\"\\uD800\"", "\"\\U0010FFFF\"", "'\\'", "0 days",
    "-5 days", "99999999999999999999 days", "90 years", "@sha256:", "a@sha256:zz", "A" * 300,
    ":", "::", "a:b:c", "host:99999999", "host:-1", "[::1]:8081", "http://x", "cas.example:",
]


def random_token(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(YAML_TOKENS)
    if roll < 0.6:
        return rng.choice(VARIABLE_FRAGMENTS).encode()
    if roll < 0.75:
        return rng.choice(TEMPLATE_FRAGMENTS).encode()
    if roll < 0.9:
        return rng.choice(UNICODE_FRAGMENTS).encode("utf-8", "surrogatepass")
    return rng.choice(RAW_BYTE_FRAGMENTS)


def split_lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def join_lines(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def m_bit_flip(data: bytes, rng: random.Random, _ctx) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def m_byte_set(data: bytes, rng: random.Random, _ctx) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        b[rng.randrange(len(b))] = rng.choice(INTERESTING_BYTES)
    return bytes(b)


def m_byte_delete_insert(data: bytes, rng: random.Random, _ctx) -> bytes:
    i = rng.randrange(len(data) + 1)
    if rng.random() < 0.5 and data:
        j = min(len(data), i + rng.randint(1, 16))
        return data[:i] + data[j:]
    return data[:i] + bytes([rng.randrange(256)]) * rng.randint(1, 4) + data[i:]


def m_line_delete(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    if len(lines) > 1:
        i = rng.randrange(len(lines))
        n = 1 if rng.random() < 0.7 else rng.randint(2, 6)
        del lines[i:i + n]
    return join_lines(lines)


def m_line_duplicate(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    i = rng.randrange(len(lines))
    n = 1 if rng.random() < 0.7 else rng.randint(2, 8)
    chunk = lines[i:i + n]
    times = 1 if rng.random() < 0.9 else rng.randint(2, 200)
    lines[i:i] = chunk * times
    return join_lines(lines)


def m_line_swap(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    if len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return join_lines(lines)


def m_line_move(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    if len(lines) > 1:
        line = lines.pop(rng.randrange(len(lines)))
        lines.insert(rng.randrange(len(lines) + 1), line)
    return join_lines(lines)


def m_indent(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    i = rng.randrange(len(lines))
    n = 1 if rng.random() < 0.8 else rng.randint(2, 10)
    for k in range(i, min(len(lines), i + n)):
        line = lines[k]
        roll = rng.random()
        if roll < 0.4:
            lines[k] = b" " * rng.randint(1, 4) + line
        elif roll < 0.7:
            strip = rng.randint(1, 4)
            lines[k] = line[strip:] if line[:strip].strip() == b"" else line.lstrip(b" ")
        elif roll < 0.85:
            lines[k] = b"\t" + line
        else:
            lines[k] = line.replace(b"  ", b"\t", 1)
    return join_lines(lines)


def m_insert_token(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    i = rng.randrange(len(lines))
    line = lines[i]
    roll = rng.random()
    token = random_token(rng)
    if roll < 0.4 and b":" in line:
        # right after a key's colon: the start of the value
        pos = line.index(b":") + 1
        lines[i] = line[:pos] + b" " + token + line[pos:]
    elif roll < 0.7:
        pos = rng.randrange(len(line) + 1)
        lines[i] = line[:pos] + token + line[pos:]
    else:
        lines.insert(i, token)
    return join_lines(lines)


def _value_span(line: bytes) -> tuple[int, int] | None:
    m = re.match(rb"^(\s*(?:-\s+)*[A-Za-z_][\w.-]*\s*:\s)(.*)$", line)
    if not m:
        m = re.match(rb"^(\s*-\s+)(.*)$", line)
    if not m:
        return None
    return m.start(2), m.end(2)


def _lines_with_values(lines: list[bytes]) -> list[int]:
    return [i for i, l in enumerate(lines) if _value_span(l) and l[_value_span(l)[0]:].strip()]


def m_replace_scalar(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    candidates = _lines_with_values(lines)
    if not candidates:
        return data
    i = rng.choice(candidates)
    start, end = _value_span(lines[i])
    old = lines[i][start:end].strip()
    roll = rng.random()
    if roll < 0.25:
        new = f"[{old.decode('utf-8', 'replace')}, {old.decode('utf-8', 'replace')}]".encode()
    elif roll < 0.4:
        new = b"{k: " + old + b"}"
    elif roll < 0.5:
        new = rng.choice([b"[]", b"{}", b"[[]]", b"{a: {b: {c: [1, [2, {d: e}]]}}}", b"[1, {}, [], ~]"])
    elif roll < 0.6:
        indent = len(lines[i]) - len(lines[i].lstrip(b" - "))
        pad = b" " * (indent + 2)
        lines[i] = lines[i][:start]
        block = [pad + b"- " + old, pad + b"- x"] if rng.random() < 0.5 else [pad + b"k: " + old]
        lines[i + 1:i + 1] = block
        return join_lines(lines)
    else:
        new = rng.choice(INTERESTING_SCALARS).encode("utf-8", "surrogatepass")
        if rng.random() < 0.3:
            new = b"\"" + new.replace(b"\\", b"\\\\").replace(b"\"", b"\\\"") + b"\""
    lines[i] = lines[i][:start] + new
    return join_lines(lines)


def m_fragment_in_value(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    candidates = _lines_with_values(lines)
    if not candidates:
        return data
    i = rng.choice(candidates)
    start, end = _value_span(lines[i])
    value = lines[i][start:end]
    frag = (rng.choice(VARIABLE_FRAGMENTS) if rng.random() < 0.6
            else rng.choice(TEMPLATE_FRAGMENTS)).encode()
    pos = start + rng.randrange(len(value) + 1)
    lines[i] = lines[i][:pos] + frag + lines[i][pos:]
    return join_lines(lines)


def m_long_string(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    candidates = _lines_with_values(lines) or list(range(len(lines)))
    i = rng.choice(candidates)
    n = rng.choice([256, 4096, 65536, 1 << 20])
    unit = rng.choice([b"A", b"$", b"{", b"[", b"\\", b"$$SCONE::", b"{{", b"ab ", b"\xc3\xa9", b"# "])
    filler = (unit * (n // len(unit) + 1))[:n]
    span = _value_span(lines[i])
    if span and rng.random() < 0.8:
        lines[i] = lines[i][:span[0]] + filler
    else:
        lines[i] = lines[i] + filler
    return join_lines(lines)


def m_deep_nesting(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    candidates = _lines_with_values(lines) or list(range(len(lines)))
    i = rng.choice(candidates)
    depth = rng.choice([50, 200, 1000, 5000, 20000])
    kind = rng.randrange(5)
    if kind == 0:
        nested = b"[" * depth + b"]" * depth
    elif kind == 1:
        nested = b"{a: " * depth + b"1" + b"}" * depth
    elif kind == 2:
        nested = b"[" * depth  # unterminated
    elif kind == 3:
        nested = b"- " * min(depth, 2000) + b"x"
    else:
        indent_base = len(lines[i]) - len(lines[i].lstrip(b" "))
        block = [b" " * (indent_base + 2 + k) + b"k:" for k in range(min(depth, 3000))]
        lines[i + 1:i + 1] = block
        return join_lines(lines)
    span = _value_span(lines[i])
    if span:
        lines[i] = lines[i][:span[0]] + nested
    else:
        lines[i] = lines[i] + nested
    return join_lines(lines)


def m_anchor_alias(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    candidates = _lines_with_values(lines)
    if len(candidates) < 2:
        return data
    i, j = rng.choice(candidates), rng.choice(candidates)
    si, _ = _value_span(lines[i])
    lines[i] = lines[i][:si] + b"&anc " + lines[i][si:]
    sj, _ = _value_span(lines[j])
    roll = rng.random()
    if roll < 0.6:
        lines[j] = lines[j][:sj] + b"*anc"
    elif roll < 0.8:
        lines[j] = lines[j][:sj] + b"*undefined_anchor"
    else:
        indent = len(lines[j]) - len(lines[j].lstrip(b" -"))
        lines.insert(j + 1, b" " * indent + b"<<: *anc")
    return join_lines(lines)


def m_self_alias(data: bytes, rng: random.Random, _ctx) -> bytes:
    # Recursive structures: yaml-cpp builds a cyclic node for '&a [*a]'.
    lines = split_lines(data)
    candidates = _lines_with_values(lines)
    if not candidates:
        return data
    i = rng.choice(candidates)
    s, _ = _value_span(lines[i])
    lines[i] = lines[i][:s] + rng.choice([b"&r [*r]", b"&r {k: *r}", b"&r [1, [*r, *r]]",
                                          b"&r {<<: *r}", b"&r [*r, {a: *r}]"])
    return join_lines(lines)


def m_truncate(data: bytes, rng: random.Random, _ctx) -> bytes:
    if not data:
        return data
    return data[:rng.randrange(len(data))]


def m_splice(data: bytes, rng: random.Random, ctx) -> bytes:
    other = rng.choice(ctx["corpus"])
    olines = split_lines(other)
    a = rng.randrange(len(olines))
    chunk = olines[a:a + rng.randint(1, 12)]
    lines = split_lines(data)
    pos = rng.randrange(len(lines) + 1)
    if rng.random() < 0.5:
        lines[pos:pos] = chunk
    else:
        lines[pos:pos + len(chunk)] = chunk
    return join_lines(lines)


def m_line_endings(data: bytes, rng: random.Random, _ctx) -> bytes:
    roll = rng.random()
    if roll < 0.4:
        return data.replace(b"\n", b"\r\n")
    if roll < 0.6:
        return data.replace(b"\n", b"\r")
    if roll < 0.8:
        return b"\xef\xbb\xbf" + data
    return data.rstrip(b"\n")


def m_documents(data: bytes, rng: random.Random, _ctx) -> bytes:
    roll = rng.random()
    if roll < 0.3:
        return b"---\n" + data + b"\n---\n" + data
    if roll < 0.5:
        return data + b"\n---\n"
    if roll < 0.7:
        return b"%YAML 1.2\n---\n" + data + b"\n...\n"
    if roll < 0.85:
        return b"--- !!map\n" + data
    return b"--- |\n" + b"\n".join(b"  " + l for l in split_lines(data))


def m_unicode(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    i = rng.randrange(len(lines))
    frag = (rng.choice(UNICODE_FRAGMENTS).encode("utf-8", "surrogatepass") if rng.random() < 0.7
            else rng.choice(RAW_BYTE_FRAGMENTS))
    pos = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:pos] + frag + lines[i][pos:]
    return join_lines(lines)


def m_key_mangle(data: bytes, rng: random.Random, _ctx) -> bytes:
    lines = split_lines(data)
    keyed = [i for i, l in enumerate(lines) if KEY_RE.match(l.decode("utf-8", "replace"))]
    if not keyed:
        return data
    i = rng.choice(keyed)
    m = re.match(rb"^(\s*(?:-\s+)*)([A-Za-z_][\w.-]*)(\s*:)", lines[i])
    if not m:
        return data
    key = m.group(2)
    roll = rng.random()
    if roll < 0.3:
        new = rng.choice([b"name", b"value", b"kind", b"service", b"env", b"secrets", b"global",
                          b"import", b"export", b"image", b"image_secrets", b"helm_extra_values",
                          b"environment", b"local", b"build", b"cas", b"policy", b"services",
                          b"repo", b"extra_policies", b"volumes", b"injection_files", b"content"])
    elif roll < 0.5:
        new = key.upper()
    elif roll < 0.65:
        new = b"\"" + key + b"\""
    elif roll < 0.8:
        new = key + rng.choice([b"_", b"x", b" ", b"\t"])
    else:
        new = b"? " + key
    lines[i] = m.group(1) + new + lines[i][m.end(2):]
    return join_lines(lines)


MUTATORS = [
    (m_bit_flip, 6), (m_byte_set, 6), (m_byte_delete_insert, 4), (m_line_delete, 8),
    (m_line_duplicate, 6), (m_line_swap, 6), (m_line_move, 4), (m_indent, 8), (m_insert_token, 12),
    (m_replace_scalar, 12), (m_fragment_in_value, 10), (m_long_string, 2), (m_deep_nesting, 2),
    (m_anchor_alias, 4), (m_self_alias, 2), (m_truncate, 2), (m_splice, 4), (m_line_endings, 2),
    (m_documents, 2), (m_unicode, 5), (m_key_mangle, 7),
]
_MUTATOR_FUNCS = [m for m, _ in MUTATORS]
_MUTATOR_WEIGHTS = [w for _, w in MUTATORS]

MAX_MUTANT_BYTES = 8 << 20


def mutate(data: bytes, rng: random.Random, ctx) -> tuple[bytes, list[str]]:
    applied = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        fn = rng.choices(_MUTATOR_FUNCS, _MUTATOR_WEIGHTS)[0]
        data = fn(data, rng, ctx)
        applied.append(fn.__name__[2:])
        if len(data) > MAX_MUTANT_BYTES:
            data = data[:MAX_MUTANT_BYTES]
    return data, applied


# --------------------------------------------------------------------------------------------
# Running


@dataclasses.dataclass
class RunResult:
    command: str
    argv: list[str]
    returncode: int | None   # None on timeout
    stdout: str
    stderr: str
    seconds: float


@dataclasses.dataclass
class Finding:
    kind: str        # exit-code | signal | timeout | sanitizer | stdout-on-invalid | secret-leak
    command: str
    signature: str
    detail: str


def run_one(binary: str, command: str, workdir: Path, filename: str, timeout: float) -> RunResult:
    argv = [binary] + COMMANDS[command] + [filename]
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=workdir, env=ENVIRONMENT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        rc = None
    return RunResult(command, argv, rc, out[:OUTPUT_LIMIT].decode("utf-8", "replace"),
                     err[:OUTPUT_LIMIT].decode("utf-8", "replace"), time.monotonic() - start)


FRAME_RE = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+) (\S+?):(\d+)", re.M)


def _project_frame(stderr: str) -> str | None:
    """First stack frame in the project's own sources (skips sanitizer runtime and headers)."""
    for m in FRAME_RE.finditer(stderr):
        path = m.group(2)
        if "libsanitizer" in path or path.startswith(("/usr/", "../")):
            continue
        return f"{_strip_path(path)}:{m.group(3)}"
    return None


def _recursive_frame(stderr: str) -> str | None:
    """For stack overflows: the project function that occurs most often in the trace."""
    counts: dict[str, int] = {}
    for m in FRAME_RE.finditer(stderr):
        path = m.group(2)
        if "libsanitizer" in path or path.startswith(("/usr/", "../")):
            continue
        key = f"{_strip_path(path)}:{m.group(1)}"
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.get) if counts else None


def sanitizer_signature(stderr: str) -> str:
    m = re.search(r"SUMMARY: (\w+Sanitizer): ([\w-]+) ([^\s]+)", stderr)
    if m:
        where = _project_frame(stderr) or _strip_path(m.group(3))
        if m.group(2) == "stack-overflow":
            where = _recursive_frame(stderr) or where
        return f"{m.group(1)}:{m.group(2)}:{where}"
    m = re.search(r"^([^\s:]+:\d+):\d+: runtime error: ([^\n]{0,60})", stderr, re.M)
    if m:
        return f"UBSan:{_strip_path(m.group(1))}:{re.sub(r'0x[0-9a-f]+', 'X', m.group(2))}"
    m = re.search(r"ERROR: (\w+Sanitizer): ([\w-]+)", stderr)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    return "sanitizer:unknown"


def _strip_path(path: str) -> str:
    for marker in ("/work/main/", "/tmp/fuzz-src/", "/usr/include/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def leaked_window(text: str, windows: list[str]) -> str | None:
    if not windows or not text:
        return None
    for w in windows:
        if w in text:
            return w
    return None


def window_only_in_secret_values(files: dict[str, bytes], window: str, companions: set[str]) -> bool:
    """True when every occurrence of `window` in the working files is inside a secret `value`
    (and no secret value is anchored and aliased elsewhere, which copies it on purpose)."""
    for data in files.values():
        text = data.decode("utf-8", "replace")
        for anchor in re.findall(r"value\s*:\s*(?:!\S+\s+)?&([^\s,\[\]{}]+)", text):
            if any(("*" + anchor) in d.decode("utf-8", "replace") for d in files.values()):
                return False
    seen = False
    for name, data in files.items():
        text = data.decode("utf-8", "replace")
        if window not in text:
            continue
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if window in line:
                seen = True
                if not in_secret_value(lines, i, bare_secret_list=name in companions):
                    return False
        if window in text and not any(window in l for l in lines):
            return False  # spans lines in some odd way: do not judge
    return seen


def classify(result: RunResult, files: dict[str, bytes], seed: Seed) -> list[Finding]:
    findings = []
    cmd = result.command
    if result.returncode is None:
        findings.append(Finding("timeout", cmd, f"timeout:{cmd}", "no exit within the timeout"))
        return findings
    if any(marker in result.stderr for marker in SANITIZER_MARKERS):
        sig = sanitizer_signature(result.stderr)
        findings.append(Finding("sanitizer", cmd, sig, sig))
    elif result.returncode < 0:
        name = signal.Signals(-result.returncode).name if -result.returncode in signal.Signals._value2member_map_ else str(-result.returncode)
        findings.append(Finding("signal", cmd, f"signal:{name}:{_first_error_line(result.stderr)}",
                                f"killed by {name}"))
    elif result.returncode not in (0, 2):
        findings.append(Finding("exit-code", cmd,
                                f"rc={result.returncode}:{_first_error_line(result.stderr)}",
                                f"exit code {result.returncode}"))
    if result.returncode == 2 and result.stdout.strip():
        findings.append(Finding("stdout-on-invalid", cmd, f"stdout-on-invalid:{cmd}",
                                "exit 2 but stdout not empty: " + result.stdout[:200]))
    companions = set(seed.mutable[1:])
    for stream, text in (("stderr", result.stderr), ("stdout", result.stdout)):
        w = leaked_window(text, seed.secret_windows)
        if w and window_only_in_secret_values(files, w, companions):
            findings.append(Finding("secret-leak", cmd, f"secret-leak:{stream}:{_leak_context(text, w)}",
                                    f"secret value text {w!r} appears on {stream}"))
    return findings


def _first_error_line(stderr: str) -> str:
    for line in stderr.splitlines():
        if "error" in line:
            line = re.sub(r"\d+", "N", line)
            return line[-80:]
    return ""


def _leak_context(text: str, window: str) -> str:
    """A stable label for a leak: the message line with digits and the value stripped."""
    for line in text.splitlines():
        if window in line:
            line = line.split(": ", 1)[-1] if ": " in line else line
            label = re.sub(r"\d+", "N", line.replace(window, "<SECRET>"))
            return re.sub(r"'[^']*'", "'…'", label)[:80]
    return "?"


# --------------------------------------------------------------------------------------------
# Minimisation and reporting


class Runner:
    def __init__(self, binary: str, timeout: float, base: Path):
        self.binary = binary
        self.timeout = timeout
        self.base = base
        self.runs = 0

    def run_files(self, files: dict[str, bytes], main: str, commands: list[str]) -> list[RunResult]:
        workdir = Path(tempfile.mkdtemp(dir=self.base))
        try:
            for name, data in files.items():
                (workdir / name).write_bytes(data)
            results = []
            for command in commands:
                self.runs += 1
                results.append(run_one(self.binary, command, workdir, main, self.timeout))
            return results
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def minimise(runner: Runner, seed: Seed, files: dict[str, bytes], target: str, finding: Finding,
             budget_seconds: float) -> dict[str, bytes]:
    """Greedy line-deletion minimiser (chunks halve down to single lines), keeping the same
    signature for the same command."""
    deadline = time.monotonic() + budget_seconds

    def still_fails(candidate: dict[str, bytes]) -> bool:
        (result,) = runner.run_files(candidate, seed.main, [finding.command])
        return any(f.signature == finding.signature for f in classify(result, candidate, seed))

    lines = files[target].split(b"\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        i = 0
        removed_any = False
        while i < len(lines) and time.monotonic() < deadline:
            trial = lines[:i] + lines[i + chunk:]
            candidate = dict(files)
            candidate[target] = b"\n".join(trial)
            if trial != lines and still_fails(candidate):
                lines = trial
                removed_any = True
            else:
                i += chunk
        if chunk == 1 and not removed_any:
            break
        chunk = max(1, chunk // 2) if chunk > 1 else 1
    result = dict(files)
    result[target] = b"\n".join(lines)
    return result


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60]


def save_finding(crashes: Path, seed: Seed, files: dict[str, bytes], minimal: dict[str, bytes],
                 finding: Finding, result: RunResult, mutations: list[str], iteration: int,
                 rng_seed: int, target: str) -> Path | None:
    digest = hashlib.sha1(finding.signature.encode()).hexdigest()[:10]
    directory = crashes / f"{finding.kind}-{digest}"
    try:
        directory.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        return None
    (directory / "original").mkdir()
    for name, data in files.items():
        (directory / "original" / name).write_bytes(data)
    for name, data in minimal.items():
        (directory / name).write_bytes(data)
    env = " ".join(f"{k}={v}" for k, v in ENVIRONMENT.items())
    note = [
        f"kind:       {finding.kind}",
        f"signature:  {finding.signature}",
        f"detail:     {finding.detail}",
        f"seed:       {seed.name} (mutated file: {target})",
        f"found by:   mutate.py --seed {rng_seed}, iteration {iteration}, mutations {mutations}",
        f"reproduce:  cd {directory} && env -i {env} \\",
        f"              {' '.join(result.argv[:-1])} {seed.main}",
        f"            (directory holds the minimised input; original/ holds the unminimised one)",
        f"exit code:  {result.returncode if result.returncode is not None else 'TIMEOUT'}"
        f" after {result.seconds:.2f}s (minimised input)",
        "",
        "---- stdout (first 4000 chars) ----",
        result.stdout[:4000],
        "---- stderr (first 12000 chars) ----",
        result.stderr[:12000],
    ]
    summary = [l for l in result.stderr.splitlines() if l.startswith("SUMMARY:")]
    if summary and summary[0] not in note[-1]:
        note += ["[...]", summary[0]]
    note += ["", "(full output: stdout.txt, stderr.txt)"]
    (directory / "NOTE.txt").write_text("\n".join(note), encoding="utf-8")
    (directory / "stdout.txt").write_text(result.stdout[:200000], encoding="utf-8")
    (directory / "stderr.txt").write_text(result.stderr[:200000], encoding="utf-8")
    return directory


# --------------------------------------------------------------------------------------------
# Main loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="path of the sconectl binary")
    parser.add_argument("--iterations", type=int, default=1000, help="number of mutants")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--max-seconds", type=float, default=3000.0,
                        help="stop after this much wall time (default 3000)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-run timeout (s)")
    parser.add_argument("--crashes", type=Path, default=HERE / "crashes")
    parser.add_argument("--seeds-dir", type=Path, default=HERE / "seeds")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--minimise-seconds", type=float, default=120.0,
                        help="time budget to minimise one finding")
    parser.add_argument("--no-minimise", action="store_true")
    parser.add_argument("--check-seeds", action="store_true",
                        help="also report seeds that do not validate (exit 0) unmutated")
    args = parser.parse_args(argv)

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"mutate.py: {binary} is not executable", file=sys.stderr)
        return 2
    seeds = load_seeds(args.fixtures, args.seeds_dir)
    rng = random.Random(args.seed)
    corpus = [data for s in seeds for data in s.files.values()]
    ctx = {"corpus": corpus}
    base = Path(tempfile.mkdtemp(prefix="sconectl-fuzz-"))
    runner = Runner(binary, args.timeout, base)
    start = time.monotonic()
    deadline = start + args.max_seconds
    counts: dict[str, int] = {}
    first_seen: dict[str, str] = {}
    exit_codes: dict[str, int] = {}
    iterations = 0
    try:
        if args.check_seeds:
            for seed in seeds:
                for r in runner.run_files(seed.files, seed.main, list(COMMANDS)):
                    print(f"seed {seed.name}: {r.command} -> {r.returncode}", file=sys.stderr)
        for iteration in range(args.iterations):
            if time.monotonic() >= deadline:
                break
            iterations += 1
            seed = rng.choice(seeds)
            target = seed.main if len(seed.mutable) == 1 or rng.random() < 0.8 \
                else rng.choice(seed.mutable[1:])
            files = dict(seed.files)
            files[target], mutations = mutate(seed.files[target], rng, ctx)
            results = runner.run_files(files, seed.main, list(COMMANDS))
            for result in results:
                key = f"{result.command}:{result.returncode}"
                exit_codes[key] = exit_codes.get(key, 0) + 1
                for finding in classify(result, files, seed):
                    counts[finding.signature] = counts.get(finding.signature, 0) + 1
                    if counts[finding.signature] > 1:
                        continue
                    minimal = files
                    if not args.no_minimise:
                        budget = min(args.minimise_seconds, max(0.0, deadline - time.monotonic()))
                        minimal = minimise(runner, seed, files, target, finding, budget)
                    (final,) = runner.run_files(minimal, seed.main, [finding.command])
                    if not any(f.signature == finding.signature
                               for f in classify(final, minimal, seed)):
                        minimal, final = files, result  # flaky: keep the original
                    saved = save_finding(args.crashes, seed, files, minimal, finding, final,
                                         mutations, iteration, args.seed, target)
                    where = saved if saved else "(already saved earlier)"
                    first_seen[finding.signature] = str(where)
                    print(f"[{iteration}] {finding.kind} in {finding.command}: "
                          f"{finding.signature} -> {where}", file=sys.stderr, flush=True)
            if (iteration + 1) % 500 == 0:
                print(f"... {iteration + 1} iterations, {time.monotonic() - start:.0f}s, "
                      f"{len(counts)} distinct findings", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    elapsed = time.monotonic() - start
    print(f"mutate.py: seed {args.seed}: {iterations} iterations ({runner.runs} runs) in "
          f"{elapsed:.1f}s; {len(counts)} distinct findings")
    print("exit codes: " + ", ".join(f"{k}x{v}" for k, v in sorted(exit_codes.items())))
    for signature, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {n:6d}  {signature}  {first_seen.get(signature, '')}")
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
