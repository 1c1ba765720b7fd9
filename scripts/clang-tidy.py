#!/usr/bin/env python3
"""Runs clang-tidy (the checks in .clang-tidy) over the project's sources, in parallel, from a
build's compile database, and fails on any finding.

In a unity build (SCONECTL_UNITY_BUILD) the database names the generated batch files
(Unity/unity_0_cxx.cxx), each including several sources; every source of a batch is checked on
its own, with its batch's command, from a database written beside the build's
(BUILD_DIR/clang-tidy/compile_commands.json). So a file that compiles only thanks to what an
earlier file of its batch included fails here as it would in a build without batches.

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


UNITY_INCLUDE = re.compile(r'^#include "(.+)"\s*$', re.M)


def unity_members(entry):
    """The sources a CMake unity batch file includes, or None for an ordinary entry."""
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if not re.search(r"/Unity/unity_\d+_cxx\.cxx$", path):
        return None
    with open(path, encoding="utf-8") as f:
        included = UNITY_INCLUDE.findall(f.read())
    return [os.path.normpath(os.path.join(os.path.dirname(path), member)) for member in included]


def expand_unity(database):
    """The database with each unity batch entry replaced by one entry per source it includes."""
    expanded = []
    for entry in database:
        members = unity_members(entry)
        if members is None:
            expanded.append(entry)
            continue
        for member in members:
            replaced = dict(entry, file=member)
            if "command" in replaced:
                replaced["command"] = replaced["command"].replace(entry["file"], member)
            if "arguments" in replaced:
                replaced["arguments"] = [member if arg == entry["file"] else arg
                                         for arg in replaced["arguments"]]
            expanded.append(replaced)
    return expanded


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


def check(entry, database_dir, salt, cache, root):
    key = key_of(entry, salt, root)
    if key and os.path.exists(os.path.join(cache, key)):
        return entry["file"], True, 0, ""
    result = subprocess.run(["clang-tidy", "-p", database_dir, "--quiet", entry["file"]],
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
        database = expand_unity(json.load(f))
    database_dir = os.path.join(build_dir, "clang-tidy")
    os.makedirs(database_dir, exist_ok=True)
    with open(os.path.join(database_dir, "compile_commands.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(database, f, indent=1)
    os.replace(os.path.join(database_dir, "compile_commands.json.tmp"),
               os.path.join(database_dir, "compile_commands.json"))
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
        futures = [pool.submit(check, entry, database_dir, salt, cache, root) for entry in entries.values()]
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
