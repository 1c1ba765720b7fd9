#!/usr/bin/env python3
"""scripts/check-layers.py must pass on the tree and fail on each kind of violation.

Each case copies src/ and include/ into a temporary tree, plants one offending line, and expects
the checker to exit 1 naming that file. Python 3 standard library only.

    tests/scripts/test_check_layers.py REPO_ROOT
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if ROOT.is_file():
    ROOT = ROOT.parent.parent.parent
CHECKER = ROOT / "scripts" / "check-layers.py"

# (file to plant, line to add, why it must fail)
VIOLATIONS = [
    ("src/util/fs.cpp", '#include "sconectl/cli/app.hpp"', "util includes the CLI (quoted)"),
    ("src/util/fs.cpp", "#include <sconectl/cli/app.hpp>", "util includes the CLI (angle brackets)"),
    ("src/manifest/load.cpp", "#include <sconectl/image/dockerfile.hpp>",
     "manifest includes a module above it"),
    ("src/cas/client.cpp", '#include "sconectl/mesh/resolve.hpp"', "cas includes mesh (beside it)"),
    ("src/image/dockerfile.cpp", '#include "../manifest/parse_context.hpp"',
     "a private header of another module"),
    ("src/apply/apply_mesh.cpp", '#include "request_handler.hpp"',
     "a private header that is not in the folder"),
    ("src/runtime/runtime.cpp", "#include <sconectl/apply/apply_mesh.hpp>",
     "the runtime includes apply"),
    ("src/apply/apply_mesh.cpp", '#include "sconectl/cas_server/local_cas.hpp"',
     "a client module includes the local CAS server's face"),
    ("src/runtime/runtime.cpp", "#include <sconectl/cas_server/local_cas.hpp>",
     "the runtime includes the local CAS server"),
    ("include/sconectl/model/session.hpp", "#include <sconectl/policy/generate.hpp>",
     "a public header of a lower layer includes a higher one"),
    ("src/newmodule/thing.cpp", '#include "sconectl/util/error.hpp"',
     "a module missing from the layer table"),
    ("src/yaml/convert.cpp", "#include <sconectl/manifest/load.hpp>",
     "the yaml module includes the manifest module above it"),
    ("src/manifest/load.cpp", "#include <yaml-cpp/yaml.h>",
     "yaml-cpp outside the yaml module"),
    ("include/sconectl/yaml/node.hpp", "#include <yaml-cpp/yaml.h>",
     "yaml-cpp in the yaml module's public face"),
]


def run(tree: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), str(tree)], capture_output=True, text=True)


def copy_tree(into: pathlib.Path) -> None:
    for folder in ("src", "include"):
        shutil.copytree(ROOT / folder, into / folder)


def main() -> int:
    failures = []
    clean = run(ROOT)
    if clean.returncode != 0:
        failures.append(f"the tree itself fails:\n{clean.stderr}")
    for path, line, why in VIOLATIONS:
        with tempfile.TemporaryDirectory() as work:
            tree = pathlib.Path(work)
            copy_tree(tree)
            target = tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            existing = target.read_text() if target.exists() else ""
            target.write_text(line + "\n" + existing)
            result = run(tree)
            if result.returncode != 1 or path not in result.stderr:
                failures.append(f"not caught: {why} ({path}: {line}); exit {result.returncode}, "
                                f"stderr: {result.stderr.strip()[:300]}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"test_check_layers: {len(VIOLATIONS)} seeded violations, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
