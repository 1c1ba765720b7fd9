#!/usr/bin/env python3
"""Runs the ```console blocks of one section of a Markdown file and compares what they print.

A block is a shell session as a reader sees it: a line starting with `$ ` is a command, the lines
after it (up to the next command) are what it prints, stdout and stderr together. All blocks of
the section run in order in one bash process, so `cd`, `export` and `eval` carry over, and
`echo $?` shows the previous command's exit code.

Comparison, line by line, after normalisation:
  - a line that is only `...` (any indentation) stands for any number of lines;
  - a 64-digit hex hash, a short `sha256:` ID, an 8-digit hash followed by `...`, a Base58 key
    hash, and the
    values given with --same (ACTUAL=SHOWN) are replaced in both texts, so what differs from
    machine to machine (digests, the CAS's port) does not fail the comparison;
  - trailing spaces are ignored.

    console_blocks.py MARKDOWN SECTION_HEADING WORKDIR [--same ACTUAL=SHOWN]... [--timeout S] [--show]

Exit 0 when every command printed what the document shows; 1 otherwise, with a diff per command.
Python 3 standard library only.
"""
import argparse
import difflib
import os
import pathlib
import re
import subprocess
import sys
import tempfile

MARKER = "@@console-block-end@@"
HASHES = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"\bsha256:[0-9a-f]{12}\b"), "sha256:<id>"),
    (re.compile(r"\b[0-9a-f]{8}\.\.\."), "<hash>..."),
    # a key hash in Base58 (sconectl self show-key-hash, CAS_KEY)
    (re.compile(r"\b[1-9A-HJ-NP-Za-km-z]{44,60}\b"), "<key hash>"),
]


def section_blocks(markdown, heading):
    """The console blocks between `heading` and the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading)
    except ValueError:
        sys.exit(f"console_blocks: no heading '{heading}'")
    blocks, block, line_number = [], None, 0
    for number, line in enumerate(lines[start + 1:], start + 2):
        hashes = len(line) - len(line.lstrip("#"))
        if block is None and 0 < hashes <= level and line[hashes:hashes + 1] == " ":
            break
        if block is None and line.strip() == "```console":
            block, line_number = [], number
        elif block is not None and line.strip() == "```":
            blocks.append((line_number, block))
            block = None
        elif block is not None:
            block.append(line)
    return blocks


def commands_of(blocks):
    """[(markdown line, command, expected output lines)]"""
    commands = []
    for first_line, block in blocks:
        for offset, line in enumerate(block):
            if line.startswith("$ "):
                commands.append([first_line + offset + 1, line[2:], []])
            elif commands:
                commands[-1][2].append(line)
            else:
                sys.exit(f"console_blocks: line {first_line + offset + 1}: output before any command")
    return commands


def normalise(lines, same):
    result = []
    for line in lines:
        for actual, shown in same:
            line = line.replace(actual, shown)
        for pattern, placeholder in HASHES:
            line = pattern.sub(placeholder, line)
        result.append(line.rstrip())
    while result and result[-1] == "":
        result.pop()
    return result


def matches(expected, actual):
    """Whether `actual` matches `expected`, where a `...` line matches any run of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(matches(expected[1:], actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def run(commands, workdir, timeout):
    script = []
    for index, (_, command, _) in enumerate(commands):
        # The marker's printf must not clobber $?: the next command may be `echo $?`.
        script.append(f"{command}\n__status=$?; printf '\\n{MARKER} {index}\\n'; (exit $__status)\n")
    # From a file, with stdin closed: a command that reads stdin must not swallow the ones after it.
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as file:
        file.write("".join(script))
    try:
        process = subprocess.run(["bash", "--noprofile", "--norc", file.name], cwd=workdir,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=timeout)
        printed = process.stdout
    except subprocess.TimeoutExpired as expired:
        # What finished is still compared; the command that hung has no marker.
        printed = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        printed += f"\n(timed out after {timeout:.0f} s)\n"
    finally:
        os.unlink(file.name)
    outputs, current = [], []
    for line in printed.splitlines():
        if line.startswith(MARKER):
            if current and current[-1] == "":
                current.pop()  # the newline the marker's printf starts with
            outputs.append(current)
            current = []
        else:
            current.append(line)
    return outputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("markdown")
    parser.add_argument("heading")
    parser.add_argument("workdir")
    parser.add_argument("--same", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--show", action="store_true", help="print every command's output")
    args = parser.parse_args()
    same = [tuple(pair.split("=", 1)) for pair in args.same]
    blocks = section_blocks(pathlib.Path(args.markdown).read_text(encoding="utf-8"), args.heading)
    commands = commands_of(blocks)
    if not commands:
        sys.exit(f"console_blocks: no console commands under '{args.heading}'")
    outputs = run(commands, args.workdir, args.timeout)
    failures = 0
    for index, (line, command, expected) in enumerate(commands):
        actual = outputs[index] if index < len(outputs) else ["(the command did not finish)"]
        want, got = normalise(expected, same), normalise(actual, same)
        status = "ok" if matches(want, got) else "DIFFERS"
        print(f"{args.markdown}:{line}: {status}: $ {command}")
        if args.show:
            sys.stdout.writelines(f"    | {printed}\n" for printed in actual)
        if status != "ok":
            failures += 1
            sys.stdout.writelines(f"    {diff}\n" for diff in difflib.unified_diff(
                want, got, "shown", "printed", lineterm="", n=2))
    print(f"{len(commands) - failures} of {len(commands)} commands printed what the document shows")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
