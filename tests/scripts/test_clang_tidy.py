#!/usr/bin/env python3
"""scripts/clang-tidy.py must fail on a finding, pass a clean file, and not check a clean file
again while nothing it includes changed (and check it again once something did).

Builds a two-file project in a temporary directory, with its own compile database and the
repository's .clang-tidy. Skips (exit 77) when clang-tidy is not installed, except in CI.

    tests/scripts/test_clang_tidy.py REPO_ROOT
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1]).resolve()
RUNNER = ROOT / "scripts" / "clang-tidy.py"

CLEAN = '#include "value.hpp"\nint twice(int x) { return x * 2 + k_value; }\n'
MOVED = ('#include <string>\n#include <utility>\n'
         'std::size_t f(std::string s) { auto t = std::move(s); return s.size() + t.size(); }\n')


def run(project, build, cache, regex):
    env = dict(os.environ, SCONECTL_TIDY_CACHE=str(cache))
    # The runner finds .clang-tidy beside its scripts/ folder: run a copy inside the project.
    return subprocess.run([sys.executable, str(project / "scripts" / "clang-tidy.py"), str(build), regex],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)


def main():
    if shutil.which("clang-tidy") is None:
        if os.environ.get("CI") == "true":
            sys.exit("clang-tidy is not installed (scripts/install-deps.sh installs it)")
        print("SKIP: clang-tidy is not installed")
        return 77
    with tempfile.TemporaryDirectory() as work:
        project = pathlib.Path(work) / "project"
        (project / "src").mkdir(parents=True)
        (project / "scripts").mkdir()
        shutil.copy(RUNNER, project / "scripts" / "clang-tidy.py")
        shutil.copy(ROOT / ".clang-tidy", project / ".clang-tidy")
        (project / "src" / "value.hpp").write_text("constexpr int k_value = 1;\n")
        (project / "src" / "clean.cpp").write_text(CLEAN)
        (project / "src" / "moved.cpp").write_text(MOVED)
        build = project / "build"
        build.mkdir()
        database = [{"directory": str(build), "file": str(project / "src" / name),
                     "command": f"c++ -std=c++20 -c {project / 'src' / name} -o {name}.o"}
                    for name in ("clean.cpp", "moved.cpp")]
        (build / "compile_commands.json").write_text(json.dumps(database))
        cache = pathlib.Path(work) / "cache"

        result = run(project, build, cache, r"/src/moved\.cpp$")
        assert result.returncode == 1, result.stdout
        assert "bugprone-use-after-move" in result.stdout, result.stdout

        result = run(project, build, cache, r"/src/clean\.cpp$")
        assert result.returncode == 0, result.stdout
        assert "(0 from the cache)" in result.stdout, result.stdout
        result = run(project, build, cache, r"/src/clean\.cpp$")
        assert result.returncode == 0 and "(1 from the cache)" in result.stdout, result.stdout

        # A header it includes changes: checked again.
        (project / "src" / "value.hpp").write_text("constexpr int k_value = 2;\n")
        result = run(project, build, cache, r"/src/clean\.cpp$")
        assert result.returncode == 0 and "(0 from the cache)" in result.stdout, result.stdout

        # A finding is never remembered: the file with it fails every time.
        result = run(project, build, cache, r"/src/moved\.cpp$")
        assert result.returncode == 1, result.stdout
    print("clang-tidy runner: fails on a finding, remembers clean files, rechecks on a change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
