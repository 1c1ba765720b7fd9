#!/usr/bin/env python3
"""tests/scripts/console_blocks.py passes a document whose shell sessions print what it shows and
fails one that does not: `...`, exit codes through `echo $?`, state carried between blocks, hashes
and --same values left out of the comparison, the section's end. Python 3 standard library only.

    tests/scripts/test_console_blocks.py REPO_ROOT
"""
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if ROOT.is_file():
    ROOT = ROOT.parent.parent.parent
RUNNER = ROOT / "tests" / "scripts" / "console_blocks.py"

DOCUMENT = """# Doc
### Tour
```console
$ export GREETING=hello
$ echo "$GREETING"; echo one; echo two; echo three
hello
...
three
$ sh -c 'echo failing >&2; exit 3'
failing
$ echo $?
3
```
Some prose.
```console
$ echo "digest $(printf 'a%.0s' $(seq 64)) at 127.0.0.1:41234 key 4dVFwiALyutj61z3FFpHZm4GEZtr6VWFLEUCCGy1Xop8k1FeHk"
digest 609b960d94b4ae5ae0d0246304125d5e05fecfb72a8704ddb0abbae4529a91ab at 127.0.0.1:8081 key 3AnGMz1XMSwjj9pgBt1Wh4BYVNLd4ru93otefi9JUp5n9ehErh
$ echo "$GREETING again"
hello again
```
### Elsewhere
```console
$ echo not run
```
"""


def run(document):
    with tempfile.TemporaryDirectory() as work:
        path = pathlib.Path(work) / "doc.md"
        path.write_text(document, encoding="utf-8")
        result = subprocess.run([sys.executable, str(RUNNER), str(path), "### Tour", work,
                                 "--same", "127.0.0.1:41234=127.0.0.1:8081"],
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout


def main():
    failures = []
    code, out = run(DOCUMENT)
    if code != 0 or "6 of 6 commands" not in out:
        failures.append(f"the matching document failed ({code}):\n{out}")
    for original, changed, why in [
        ("hello\n...\nthree", "hello\n...\nfour", "a changed last line"),
        ("$ echo $?\n3", "$ echo $?\n0", "a changed exit code"),
        ("hello again\n```", "hello again\nand more\n```", "a line the command does not print"),
        ("$ export GREETING=hello\n", "$ export GREETING=hello\nunexpected\n", "output where none is"),
    ]:
        code, out = run(DOCUMENT.replace(original, changed, 1))
        if code != 1 or "DIFFERS" not in out:
            failures.append(f"not caught: {why} ({code}):\n{out}")
    for failure in failures:
        print(failure)
    print(f"{5 - len(failures)} of 5 checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
