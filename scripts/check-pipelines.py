#!/usr/bin/env python3
"""Fails when a shell script that sets `pipefail` ends a pipeline with a reader that stops early.

Under `set -o pipefail`, `producer | grep -q x` fails when grep finds x and exits before the
producer has written everything: the producer dies of SIGPIPE and the pipeline reports 141. A
check for a leaked secret then passes when the secret is there, a wait loop waits for nothing, and
an assignment under `set -e` ends the script without a word. The same holds for `head` and for an
awk program that calls `exit`. Readers that consume their whole input (`grep PATTERN >/dev/null`,
`sed -n 1p`) do not have the problem. A `| head` inside a failure message only shortens the
message and is allowed. Run by ctest (scripts.check_pipelines); exits 1 and names every line.

    scripts/check-pipelines.py [REPO_ROOT | FILE...]
"""
import pathlib
import re
import sys

EARLY_READER = re.compile(
    r"\|\s*(grep\s+(?:-[A-Za-z-]+\s+)*(?:-[A-Za-z]*[qm]|--quiet|--silent|--max-count)"
    r"|head\b|awk\b[^|]*\bexit\b|sed\s+(?:-n\s+)?'?[0-9]+q)"
)
MESSAGE = re.compile(r"\b(fail|skip_or_fail|die|echo|printf)\b[^|]*\$\(")


def shell_files(args):
    if len(args) == 1 and pathlib.Path(args[0]).is_dir():
        root = pathlib.Path(args[0])
        names = ["scripts", "tests", "bench", "examples", ".ci"]
        for name in names:
            for path in sorted((root / name).rglob("*")):
                if path.is_file() and (path.suffix == ".sh" or path.name == "run"):
                    yield path
    else:
        for arg in args:
            yield pathlib.Path(arg)


def offending_lines(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    # A sourced library runs under its caller's options: checked as if it set pipefail.
    if "pipefail" not in text and "shellcheck shell=bash" not in text:
        return
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        match = EARLY_READER.search(code)
        if not match:
            continue
        if match.group(1).startswith("head") and MESSAGE.search(code[: match.start()]):
            continue
        yield number, line.strip()


def main(args):
    found = 0
    for path in shell_files(args or ["."]):
        for number, line in offending_lines(path):
            print(f"{path}:{number}: a reader that stops early ends a pipeline under pipefail: {line}")
            found += 1
    if found:
        print(f"{found} pipeline(s): read the whole input (grep ... >/dev/null, sed -n 1p) instead",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
