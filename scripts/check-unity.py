#!/usr/bin/env python3
"""Fails where a unity batch could silently change what a source file means.

The build compiles each target's sources in batches (CMake unity build, SCONECTL_UNITY_BUILD):
several .cpp files become one translation unit, and what each file declares in an unnamed
namespace, or as static, becomes visible to the files after it in the batch. Two such classes,
variables or aliases of one name fail to compile, which is loud. Functions need not: a file-local
function becomes an overload of another file's file-local function of its name and namespace, and
hides a function of that name that a header declares in the same or an enclosing namespace, so a
call in another file can silently pick it. This refuses such names in src/, tests/ and bench/
(each tree apart), whatever the batches happen to be, and a using-directive (`using namespace x;`)
outside a function, which would reach into every later file of its batch (the standard's literal
namespaces excepted). clang-tidy still checks each file on its own, which catches a file that
compiles only thanks to what an earlier file of its batch included.

    scripts/check-unity.py [REPO_ROOT]
"""
import collections
import pathlib
import re
import sys

# A function definition's head at the top level of a file-local scope: its name before "(",
# after a return type (or "static"), and a body after the parameter list.
FUNCTION = re.compile(r"(?:^|[\s*&>:])(~?[A-Za-z_]\w*)\s*\((?:[^()]|\([^()]*\))*\)[^;{}()]*$", re.S)
# A function declaration: a name, its parameters, and qualifiers up to the ";".
DECLARATION = re.compile(r"(?:^|[\s*&>:])(~?[A-Za-z_]\w*)\s*\((?:[^()]|\([^()]*\))*\)"
                         r"(?:\s*(?:const|noexcept|override|=\s*delete|=\s*default|->[^;]*))*\s*$",
                         re.S)
NOT_FUNCTIONS = {"if", "for", "while", "switch", "return", "sizeof", "decltype", "alignas",
                 "static_assert", "operator", "noexcept", "requires"}


def strip(text: str) -> str:
    """The code without comments, string and character literals (their length kept)."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|R"(\w*)\(.*?\)\1"|"(?:\\.|[^"\\\n])*"|'
                         r"'(?:\\.|[^'\\\n])*'", re.S)
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def functions(text: str):
    """The functions of a file, as two lists of (namespace::name, line): those defined in an
    unnamed namespace or as static at namespace scope (file-local), and those declared or defined
    at namespace scope with external linkage. The namespace is the enclosing named one ("" at
    file scope)."""
    code = strip(text)
    found, external = [], []
    # A stack of the open braces' kinds: "ns" (named namespace), "anon", "block" (anything else),
    # and of the named namespaces' names.
    stack, names = [], []
    statement_start = 0
    parens = 0  # braces inside parentheses (a default argument's {}) open no scope
    for index, char in enumerate(code):
        if char in "()":
            parens = max(0, parens + (1 if char == "(" else -1))
        elif parens:
            continue
        elif char == "{":
            head = code[statement_start:index]
            in_namespace_scope = all(kind in ("ns", "anon") for kind in stack)
            if in_namespace_scope and re.search(r"\bnamespace\s*$", head):
                stack.append("anon")
            elif in_namespace_scope and re.search(r"\bnamespace\s+([\w:]+)\s*$", head):
                stack.append("ns")
                names.append(re.search(r"\bnamespace\s+([\w:]+)\s*$", head).group(1))
            elif in_namespace_scope and re.search(r'\bextern\s+"C"\s*$', head):
                stack.append("block")
            else:
                if in_namespace_scope:
                    local = "anon" in stack or re.match(r"\s*(template\s*<[^{}]*>\s*)?static\b",
                                                        head)
                    match = FUNCTION.search(head)
                    # TEST(...) and other macros that expand to definitions are not functions.
                    if local and match and match.group(1) not in NOT_FUNCTIONS \
                            and not re.fullmatch(r"[A-Z][A-Z0-9_]*", match.group(1)) \
                            and not re.search(r"\b(class|struct|union|enum)\b", head) \
                            and "=" not in head.split("(")[0]:
                        line = code.count("\n", 0, statement_start + match.start(1)) + 1
                        found.append(("::".join(names + [match.group(1)]), line))
                stack.append("block")
            statement_start = index + 1
        elif char == "}":
            if stack and stack.pop() == "ns":
                names.pop()
            statement_start = index + 1
        elif char == ";" and all(kind in ("ns", "anon") for kind in stack):
            head = code[statement_start:index]
            match = DECLARATION.search(head)
            if "anon" not in stack and match and match.group(1) not in NOT_FUNCTIONS \
                    and not re.fullmatch(r"[A-Z][A-Z0-9_]*", match.group(1)) \
                    and not re.match(r"\s*(using|typedef|friend|static|extern)\b", head) \
                    and "=" not in head.split("(")[0]:
                line = code.count("\n", 0, statement_start + match.start(1)) + 1
                external.append(("::".join(names + [match.group(1)]), line))
            statement_start = index + 1
    return found, external


def namespace_using_directives(text: str):
    """Line numbers of using-directives outside any function or class body."""
    code = strip(text)
    found, stack, statement_start = [], [], 0
    for index, char in enumerate(code):
        if char == "{":
            head = code[statement_start:index]
            stack.append("ns" if re.search(r"\bnamespace\b[\w:\s]*$", head) else "block")
            statement_start = index + 1
        elif char == "}":
            if stack:
                stack.pop()
            statement_start = index + 1
        elif char == ";":
            statement = code[statement_start:index]
            match = re.search(r"\busing\s+namespace\s+([\w:]+)\s*$", statement)
            if match and all(kind == "ns" for kind in stack) \
                    and not match.group(1).endswith("_literals"):
                found.append(code.count("\n", 0, statement_start + match.start()) + 1)
            statement_start = index + 1
    return found


def enclosing(qualified: str):
    """a::b::f -> a::b::f, a::f, f: where a declaration hides or overloads a::b's f."""
    parts = qualified.split("::")
    return ["::".join(parts[:depth] + parts[-1:]) for depth in range(len(parts) - 1, -1, -1)]


def clashes(files, headers, root: pathlib.Path):
    """name -> places, for each file-local function whose name another file also defines locally
    in the same namespace, or a header declares in the same or an enclosing namespace (where,
    in a batch, the local one would hide or overload it)."""
    local = collections.defaultdict(list)
    for path in files:
        for name, line in functions(path.read_text(encoding="utf-8"))[0]:
            local[name].append(f"{path.relative_to(root)}:{line}")
    declared = collections.defaultdict(list)
    for path in headers:
        for name, line in functions(path.read_text(encoding="utf-8"))[1]:
            declared[name].append(f"{path.relative_to(root)}:{line}")
    found = {}
    for name, places in local.items():
        in_headers = [place for outer in enclosing(name) for place in declared.get(outer, [])]
        if len({place.split(":")[0] for place in places}) > 1 or in_headers:
            found[name] = places + in_headers
    return found


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parent.parent).resolve()
    failed = False
    for tree in ("src", "tests", "bench"):
        files = sorted((root / tree).rglob("*.cpp"))
        for path in files:
            for line in namespace_using_directives(path.read_text(encoding="utf-8")):
                failed = True
                print(f"check-unity: {path.relative_to(root)}:{line}: a using-directive outside a "
                      "function reaches into the later files of its unity batch; name what is "
                      "used (using x::Name;) or move it into the functions", file=sys.stderr)
        headers = sorted(path for folder in ("include", "src", tree)
                         for path in (root / folder).rglob("*.hpp"))
        for name, places in sorted(clashes(files, sorted(set(headers)), root).items()):
            failed = True
            print(f"check-unity: file-local function '{name}' shares its name with another "
                  f"function of its namespace (in a unity batch one hides or overloads the "
                  f"other): " + ", ".join(places), file=sys.stderr)
    if failed:
        print("check-unity: give each a name of its own, or share one definition from a header",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
