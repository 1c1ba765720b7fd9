#!/usr/bin/env python3
"""Fails when an #include in src/ or include/ crosses the module layering the wrong way.

The library is layered (docs/architecture.md): each module may include its own headers and those
of the modules listed for it below, nothing else. Quoted includes and angle-bracket
includes of "sconectl/..." headers are checked alike. yaml-cpp's headers belong to the yaml module's
sources alone (OWNED_LIBRARIES). A quoted include that is not a public
"sconectl/..." header must name a private header in the same folder (no "../" into another
module's internals). Run by scripts/test.sh; exits 1 and names every offending line.

    scripts/check-layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# module -> modules it may include (besides itself). version.hpp is open to all.
ALLOWED = {
    "util": set(),
    "yaml": {"util"},
    "manifest": {"yaml", "util"},
    "model": {"manifest", "yaml", "util"},
    "policy": {"model", "manifest", "yaml", "util"},
    "chart": {"model", "manifest", "yaml", "util"},
    "image": {"model", "manifest", "yaml", "util"},
    "diff": {"model", "manifest", "yaml", "util"},
    "cas": {"model", "manifest", "yaml", "util"},
    "cas_server": {"cas", "model", "manifest", "yaml", "util"},
    "runtime": {"cas", "model", "manifest", "yaml", "util"},
    "mesh": {"image", "model", "manifest", "yaml", "util"},
    "apply": {"mesh", "policy", "chart", "image", "cas", "diff", "model", "manifest", "yaml", "util"},
    "verify": {"cas", "diff", "model", "manifest", "yaml", "util"},
    "cli": {"verify", "apply", "cas_server", "runtime", "mesh", "policy", "chart", "image", "cas", "diff",
            "model", "manifest", "yaml", "util"},
    "main": {"cli"},
}
OPEN_TO_ALL = {"version.hpp"}
# Third-party headers that only one module may include: yaml-cpp stays behind the yaml module's
# own node type, so no other module (and no public header, not even the yaml module's) depends on
# its types.
OWNED_LIBRARIES = {"yaml-cpp/": "yaml"}
LIBRARY_INCLUDE = re.compile(r'^\s*#\s*include\s*<([^>]+)>')
# Quoted includes, and angle-bracket includes of the project's own headers (<sconectl/...>): both
# reach the same files, so both are checked.
INCLUDE = re.compile(r'^\s*#\s*include\s*(?:"([^"]+)"|<(sconectl/[^>]+)>)')


def module_of(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = path.relative_to(root).parts
    if parts[0] == "include":  # include/sconectl/<module>/...
        parts = parts[2:]
    else:  # src/<module>/...
        parts = parts[1:]
    if len(parts) == 1:
        return "main" if parts[0] == "main.cpp" else parts[0]
    if parts[0] == "cas" and parts[1] == "server":
        return "cas_server"
    return parts[0]


def header_module(include: str) -> str | None:
    """"sconectl/<module>/x.hpp" -> "<module>" ("sconectl/version.hpp" -> "version.hpp")."""
    parts = include.split("/")
    return parts[1] if parts[0] == "sconectl" and len(parts) >= 2 else None


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    root = root.resolve()
    problems = []
    sources = sorted((root / "src").rglob("*.[ch]pp")) + sorted((root / "include").rglob("*.hpp"))
    for source in sources:
        module = module_of(source, root)
        if module not in ALLOWED:
            problems.append(f"{source.relative_to(root)}: module '{module}' is not in the layer table "
                            "of scripts/check-layers.py")
            continue
        public = source.relative_to(root).parts[0] == "include"
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            library = LIBRARY_INCLUDE.match(line)
            if library:
                for prefix, owner in OWNED_LIBRARIES.items():
                    if library.group(1).startswith(prefix) and (module != owner or public):
                        problems.append(f"{source.relative_to(root)}:{number}: <{library.group(1)}> "
                                        f"may be included only by the sources of the {owner} module, "
                                        f"not by {'a public header' if public else module}")
            match = INCLUDE.match(line)
            if not match:
                continue
            include = match.group(1) or match.group(2)
            where = f"{source.relative_to(root)}:{number}"
            target = header_module(include)
            if target is None:
                if "/" in include or not (source.parent / include).exists():
                    problems.append(f"{where}: \"{include}\" is not a header of this folder; include "
                                    "another module through its public sconectl/<module>/ header")
                continue
            if target in OPEN_TO_ALL or target == module:
                continue
            if target not in ALLOWED[module]:
                allowed = ", ".join(sorted(ALLOWED[module])) or "nothing"
                problems.append(f"{where}: {module} must not include {include} (module '{target}'); "
                                f"{module} may use {allowed}")
    for problem in problems:
        print(f"check-layers: {problem}", file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} include(s) cross the layering", file=sys.stderr)
        return 1
    print(f"check-layers: {len(sources)} files follow the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main())
