#!/usr/bin/env python3
"""Runs clang-tidy (the checks in .clang-tidy) over the project's sources, in parallel, from a
build's compile database, and fails on any finding.

A translation unit found clean is remembered by a key: the SHA-256 of clang-tidy's version, the
.clang-tidy file, the compile command and the unit's preprocessed text (every header it includes,
as the compiler sees it). A unit whose key is remembered is not checked again, so a run after a
change checks only what the change can affect. The cache is in $SCONECTL_TIDY_CACHE, else
$XDG_CACHE_HOME/sconectl/clang-tidy, else ~/.cache/sconectl/clang-tidy.

  scripts/clang-tidy.py BUILD_DIR [FILE_REGEX]    (default: the .cpp files under src/)
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time


def cache_dir():
    if os.environ.get("SCONECTL_TIDY_CACHE"):
        return os.environ["SCONECTL_TIDY_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sconectl", "clang-tidy")


def preprocess_command(entry):
    """The unit's compile command with -E in place of -c and no output file or dependency file."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if arg in ("-c", "-MD", "-MMD") or arg.startswith("-fdiagnostics-color"):
            continue
        out.append(arg)
    # ccache is a launcher in front of the compiler when the build uses one.
    if os.path.basename(out[0]) == "ccache":
        out = out[1:]
    return out + ["-E", "-P"]


def key_of(entry, salt, root):
    result = subprocess.run(preprocess_command(entry), cwd=entry["directory"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        return None  # not preprocessable as recorded: check it, never remember it
    digest = hashlib.sha256(salt)
    # Paths relative to the checkout, so that another clone of the same tree finds the same keys.
    command = entry.get("command", " ".join(entry.get("arguments", [])))
    digest.update(command.replace(root, "<root>").encode())
    digest.update(result.stdout)
    return digest.hexdigest()


def check(entry, build_dir, salt, cache, root):
    key = key_of(entry, salt, root)
    if key and os.path.exists(os.path.join(cache, key)):
        return entry["file"], True, 0, ""
    result = subprocess.run(["clang-tidy", "-p", build_dir, "--quiet", entry["file"]],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    findings = result.stdout if result.returncode != 0 or "warning:" in result.stdout else ""
    if result.returncode == 0 and not findings and key:
        with open(os.path.join(cache, key), "w", encoding="utf-8"):
            pass
    return entry["file"], False, result.returncode, findings


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build_dir = os.path.abspath(sys.argv[1])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pattern = re.compile(sys.argv[2] if len(sys.argv) == 3 else re.escape(root + "/src/") + r".*\.cpp$")
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        database = json.load(f)
    # One entry per file: the static runtime compiles some sources a second time.
    entries = {}
    for entry in database:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        if pattern.search(path) and path not in entries:
            entries[path] = dict(entry, file=path)
    version = subprocess.run(["clang-tidy", "--version"], stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(root, ".clang-tidy"), "rb") as f:
        salt = version + f.read()
    cache = cache_dir()
    os.makedirs(cache, exist_ok=True)

    started = time.monotonic()
    failed, cached, done = [], 0, 0
    workers = os.cpu_count() or 1
    print(f"clang-tidy: {len(entries)} files, {workers} at a time", file=sys.stderr, flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check, entry, build_dir, salt, cache, root) for entry in entries.values()]
        for future in concurrent.futures.as_completed(futures):
            path, hit, code, findings = future.result()
            done += 1
            cached += hit
            if code != 0 or findings:
                failed.append(path)
                print(findings, end="" if findings.endswith("\n") else "\n", flush=True)
            if done % 10 == 0 or done == len(entries):
                print(f"clang-tidy: {done}/{len(entries)} checked ({cached} unchanged since a clean run)",
                      file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    if failed:
        print(f"clang-tidy: findings in {len(failed)} file(s), {elapsed:.0f} s:", file=sys.stderr)
        for path in sorted(failed):
            print(f"  {os.path.relpath(path, root)}", file=sys.stderr)
        return 1
    print(f"clang-tidy: {len(entries)} files clean ({cached} from the cache), {elapsed:.0f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
