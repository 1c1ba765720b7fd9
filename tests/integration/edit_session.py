#!/usr/bin/env python3
"""Edits a session as `sconectl session get` prints it, for `session update`, as an administrator
would by hand. Drops what the CAS sets (creator, predecessor: `session update` names the current
predecessor itself). Every edit must find its place, or the script fails: a test never goes on
with a session it did not change.

  edit_session.py FILE [--grant KEY_HASH] [--env NAME=VALUE] [--tolerate NAME]

--grant:    add a client's key hash to access_policy.read and access_policy.update
--env:      set an existing environment variable of the session's service to VALUE
--tolerate: add NAME to security.attestation.tolerate
"""
import argparse
import json
import re
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--grant", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--tolerate", action="append", default=[])
    args = parser.parse_args()

    with open(args.file, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines(True) if not l.startswith(("creator:", "predecessor:"))]
    text = "".join(lines)

    def edit(pattern, replacement, what):
        nonlocal text
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
        if count != 1:
            sys.exit(f"edit_session.py: {args.file}: no place for {what}:\n{text}")

    for key_hash in args.grant:
        for operation in ("read", "update"):
            edit(rf'^(  {operation}:\n)', rf'\1    - {json.dumps(key_hash)}\n', f"--grant ({operation})")
    for assignment in args.env:
        name, _, value = assignment.partition("=")
        edit(rf'^(      {re.escape(name)}: ).*$', lambda m: m.group(1) + json.dumps(value), f"--env {name}")
    for toleration in args.tolerate:
        edit(r'^(    tolerate:\n)', rf'\1      - {json.dumps(toleration)}\n', f"--tolerate {toleration}")

    with open(args.file, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
