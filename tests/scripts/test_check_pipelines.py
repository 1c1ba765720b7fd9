#!/usr/bin/env python3
"""scripts/check-pipelines.py must pass on the tree and fail on each early reader under pipefail.

Each case writes a small script that sets pipefail and holds one pipeline, and expects the checker
to exit 1 for the early readers and 0 for the whole-input ones. Python 3 standard library only.

    tests/scripts/test_check_pipelines.py REPO_ROOT
"""
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if ROOT.is_file():
    ROOT = ROOT.parent.parent.parent
CHECKER = ROOT / "scripts" / "check-pipelines.py"

EARLY = [
    'docker image inspect "$image" | grep -q "$secret" && fail "leaked"',
    "docker logs pod | grep -qx done || fail late",
    'ctr images ls | grep -F -q pause || import',
    "first=$(ls target | head -1)",
    "path=$(ldconfig -p | awk '$1 == \"libcurl.so.4\" { print $NF; exit }')",
    "docker logs pod | grep --quiet done || fail late",
    "web=$(docker ps | grep -m1 web)",
]
WHOLE = [
    'docker image inspect "$image" | grep "$secret" >/dev/null && fail "leaked"',
    "first=$(ls target | sed -n 1p)",
    'fail "reports differ: $(diff a b | head)"',
    'grep -q done "$work/log" || fail late',
]


def check(line, pipefail=True, sourced=False):
    with tempfile.TemporaryDirectory() as work:
        script = pathlib.Path(work) / "case.sh"
        header = "set -euo pipefail\n" if pipefail else "set -eu\n"
        if sourced:  # a library sourced by scripts that set pipefail
            header = "# shellcheck shell=bash\n"
        script.write_text(f"#!/usr/bin/env bash\n{header}{line}\n", encoding="utf-8")
        return subprocess.run([sys.executable, str(CHECKER), str(script)],
                              capture_output=True, text=True).returncode


def main():
    failures = []
    tree = subprocess.run([sys.executable, str(CHECKER), str(ROOT)], capture_output=True, text=True)
    if tree.returncode != 0:
        failures.append(f"the tree does not pass:\n{tree.stdout}")
    failures += [f"not flagged: {line}" for line in EARLY if check(line) != 1]
    failures += [f"flagged though it reads everything: {line}" for line in WHOLE if check(line) != 0]
    failures += [f"flagged without pipefail: {line}" for line in EARLY[:1] if check(line, False) != 0]
    failures += [f"not flagged in a sourced library: {line}" for line in EARLY[:1]
                 if check(line, False, sourced=True) != 1]
    for failure in failures:
        print(failure)
    print(f"{len(EARLY) + len(WHOLE) + 3 - len(failures)} of {len(EARLY) + len(WHOLE) + 3} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
