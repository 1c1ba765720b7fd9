#!/usr/bin/env python3
"""scripts/check-unity.py must pass on the tree, fail on two file-local functions of one name in
one namespace, and let alone what a unity build cannot confuse.

Each case writes two small source files into a temporary tree and runs the checker on it.
Python 3 standard library only.

    tests/scripts/test_check_unity.py REPO_ROOT
"""
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if ROOT.is_file():
    ROOT = ROOT.parent.parent.parent
CHECKER = ROOT / "scripts" / "check-unity.py"

# (first file, second file, must it fail, why)
CASES = [
    ("namespace a {\nnamespace {\nint helper(int x) { return x; }\n}  // namespace\n}\n",
     "namespace a {\nnamespace {\nlong helper(long x) { return x; }\n}  // namespace\n}\n",
     True, "two unnamed-namespace functions of one name in one namespace (silent overloads)"),
    ("namespace a {\nstatic int helper(int x) { return x; }\n}\n",
     "namespace a {\nnamespace {\nint helper(const char* x) { return *x; }\n}\n}\n",
     True, "a static function and an unnamed-namespace one"),
    ("namespace a {\nnamespace {\nstd::string text(const J& j, const char* k, std::string f = {})\n"
     "{\n  return f;\n}\n}\n}\n",
     "namespace a {\nnamespace {\nstd::string text(int x)\n{\n  return {};\n}\n}\n}\n",
     True, "a default argument in braces does not hide the function"),
    ("namespace a {\nnamespace {\nint helper(int x) { return x; }\n}\n}\n",
     "namespace b {\nnamespace {\nint helper(int x) { return x; }\n}\n}\n",
     False, "the same name in different namespaces"),
    ("namespace a {\nint helper(int x) { return x; }\n}\n",
     "namespace a {\nint helper(long x) { return x; }\n}\n",
     False, "functions with external linkage (declared in headers; the linker sees clashes)"),
    ("namespace a {\nnamespace {\nTEST(Suite, Case) { }\n}\n}\n",
     "namespace a {\nnamespace {\nTEST(Suite, Other) { }\n}\n}\n",
     False, "test macros"),
    ("namespace a {\nvoid f()\n{\n  if (x) { }\n  static int g(1);\n}\n}\n",
     "namespace a {\nnamespace {\nvoid run() { for (;;) { } }\n}\n}\n",
     False, "statements inside function bodies"),
    ("namespace a::b {\nnamespace {\nint to_json(const Result& r) { return 1; }\n}\n}\n",
     "namespace a::b {\nint two() { return 2; }\n}\n",
     True, "a file-local function named like one a header declares in an enclosing namespace"),
    ("namespace a::b {\nnamespace {\nint to_yaml(const Result& r) { return 1; }\n}\n}\n",
     "namespace a::c {\nint two() { return 2; }\n}\n",
     False, "a header's function in a namespace that does not enclose the file-local one"),
    ("namespace a {\nusing namespace b;\nint one() { return 1; }\n}\n",
     "namespace a {\nint two() { return 2; }\n}\n",
     True, "a using-directive at namespace scope reaches the next file of the batch"),
    ("namespace a {\nnamespace {\nusing namespace b;\n}\nint one() { return 1; }\n}\n",
     "int two() { return 2; }\n",
     True, "a using-directive in an unnamed namespace too"),
    ("using namespace std::chrono_literals;\nvoid one() { using namespace b; }\n",
     "int two() { return 2; }\n",
     False, "a literal namespace, and a using-directive inside a function"),
]


def run(tree: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), str(tree)], capture_output=True, text=True)


def main() -> int:
    failures = []
    clean = run(ROOT)
    if clean.returncode != 0:
        failures.append(f"the checker fails on the tree itself:\n{clean.stderr}")
    for first, second, must_fail, why in CASES:
        with tempfile.TemporaryDirectory() as temp:
            tree = pathlib.Path(temp)
            (tree / "src" / "m").mkdir(parents=True)
            (tree / "src" / "m" / "one.cpp").write_text(first)
            (tree / "src" / "m" / "two.cpp").write_text(second)
            # A header that declares to_json in namespace a, and one in a::c.
            (tree / "include").mkdir()
            (tree / "include" / "report.hpp").write_text(
                "#pragma once\nnamespace a {\n[[nodiscard]] int to_json(const Other& o);\n}\n"
                "namespace a::c {\nint to_yaml(const Other& o) noexcept;\n}\n")
            result = run(tree)
            # A clash names both files; a using-directive, the file that has it.
            named = (["one.cpp"] if "using namespace" in first
                     else ["one.cpp", "report.hpp"] if "to_json" in first
                     else ["one.cpp", "two.cpp"])
            if must_fail and (result.returncode != 1
                              or any(name not in result.stderr for name in named)):
                failures.append(f"not caught ({why}): exit {result.returncode}\n{result.stderr}")
            if not must_fail and result.returncode != 0:
                failures.append(f"refused ({why}):\n{result.stderr}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print(f"{len(CASES) + 1 - len(failures)} of {len(CASES) + 1} cases passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
