#!/usr/bin/env python3
"""Sums clang's -ftime-trace files of a build: where the compile time of a build goes.

    bench/build_trace.py BUILD_DIR [--top N]

Every object file compiled with -ftime-trace has a JSON trace beside it (foo.cpp.json). This
prints the build's total compile time, its split into front end (parsing, template
instantiation) and back end (optimisation, code generation), the headers whose parsing cost most
summed over every translation unit that included them (inclusive of what they include; a header
counts once per unit, at its outermost inclusion), and the templates whose instantiation cost
most. Headers are named from the include directory they were found in (nlohmann/json.hpp, not
/usr/include/nlohmann/json.hpp) so the table reads the same on every machine.
"""
import argparse
import collections
import json
import os
import pathlib
import re
import sys

# Directories whose prefix is cut from a header's path, longest first.
INCLUDE_ROOTS = ["/usr/include/x86_64-linux-gnu/", "/usr/include/", "/usr/local/include/"]


LIBRARIES = [("nlohmann/", "nlohmann/json"), ("spdlog/", "spdlog"), ("fmt/", "fmt"),
             ("CLI/", "CLI11"), ("gtest/", "GoogleTest"), ("gmock/", "GoogleTest"),
             ("httplib", "cpp-httplib"), ("openssl/", "OpenSSL"), ("yaml-cpp/", "yaml-cpp"),
             ("tl/", "tl-expected"), ("curl/", "libcurl"), ("archive", "libarchive"),
             ("sqlite3", "SQLite")]


def library_of(header: str) -> str:
    """The library a shortened header path belongs to: the project, libstdc++, libc or one of the
    header-only and C libraries above."""
    for prefix, name in LIBRARIES:
        if header.startswith(prefix):
            return name
    if header.startswith(("include/", "src/", "tests/", "bench/")) or "sconectl" in header:
        return "sconectl's own headers"
    if "/" not in header or header.startswith(("bits/", "ext/", "pstl/", "debug/", "tr1/")):
        return "C++ standard library"
    return "C library and system"


def short_header(path: str, source_root: str) -> str:
    path = os.path.normpath(path)
    if path.startswith(source_root):
        return path[len(source_root):]
    for root in INCLUDE_ROOTS:
        if path.startswith(root):
            rest = path[len(root):]
            # libstdc++: c++/12/bits/stl_vector.h -> <bits/stl_vector.h>
            rest = re.sub(r"^c\+\+/\d+/", "", rest)
            return rest
    return path


def template_family(detail: str) -> str:
    """nlohmann::json_abi_v3_11_2::basic_json<...>::parse<...> -> nlohmann::basic_json::parse."""
    name = re.sub(r"json_abi_v[0-9_]+::", "", detail)
    out, depth = [], 0
    for char in name:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif depth == 0 and char != " ":
            out.append(char)
    name = "".join(out)
    name = name.split("(")[0]
    # Keep the namespace and the class: the member is noise when summing by family.
    parts = name.split("::")
    return "::".join(parts[:3])


def load(trace_path: pathlib.Path):
    try:
        with open(trace_path, encoding="utf-8") as handle:
            return json.load(handle).get("traceEvents", [])
    except (OSError, ValueError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--source-root", default=None,
                        help="cut this prefix from the project's own headers")
    args = parser.parse_args()
    build_dir = pathlib.Path(args.build_dir).resolve()
    source_root = args.source_root or str(pathlib.Path(__file__).resolve().parent.parent) + "/"

    units = 0
    total_us = frontend_us = backend_us = 0
    header_us = collections.Counter()
    header_units = collections.Counter()
    template_us = collections.Counter()
    unit_us = {}
    library_us = collections.Counter()  # parsing time of each library's own lines (self time)
    for trace_path in sorted(build_dir.rglob("*.json")):
        if not trace_path.name.endswith((".cpp.json", ".cxx.json", ".cc.json")):
            continue
        events = load(trace_path)
        if events is None:
            continue
        units += 1
        # Source events nest; only the outermost inclusion of a header counts, so that a header
        # included twice (guarded) or from inside another counted header is not summed twice
        # within its own subtree.
        spans = []
        for event in events:
            if event.get("ph") != "X":
                continue
            name, duration = event.get("name"), int(event.get("dur", 0))
            detail = event.get("args", {}).get("detail", "")
            if name == "ExecuteCompiler":
                total_us += duration
                unit_us[str(trace_path.relative_to(build_dir))] = duration
            elif name == "Total Frontend":
                frontend_us += duration
            elif name == "Total Backend":
                backend_us += duration
            elif name == "Source":
                spans.append((int(event["ts"]), duration, short_header(detail, source_root)))
            elif name in ("InstantiateFunction", "InstantiateClass"):
                template_us[template_family(detail)] += duration
        # A header's time in this unit: the sum of its inclusions that are not nested in an
        # inclusion of the same header.
        spans.sort()
        # Self time: a span's duration less that of the spans directly nested in it.
        stack = []
        for start, duration, header in spans:
            while stack and stack[-1][0] + stack[-1][1] <= start:
                stack.pop()
            if stack:
                library_us[library_of(stack[-1][2])] -= duration
            library_us[library_of(header)] += duration
            stack.append((start, duration, header))
        open_until = {}
        seen = set()
        for start, duration, header in spans:
            if open_until.get(header, -1) > start:
                continue
            open_until[header] = start + duration
            header_us[header] += duration
            seen.add(header)
        for header in seen:
            header_units[header] += 1

    if units == 0:
        print(f"build_trace: no -ftime-trace files under {build_dir}", file=sys.stderr)
        return 1
    seconds = lambda us: us / 1e6  # noqa: E731
    print(f"{units} translation units, {seconds(total_us):.1f} s of compiler time "
          f"(front end {seconds(frontend_us):.1f} s, back end {seconds(backend_us):.1f} s)")
    print("\nparsing by library (each header's own lines, without what it includes):")
    for library, duration in library_us.most_common():
        print(f"{seconds(duration):8.1f} {100 * duration / total_us:5.1f}%  {library}")
    print(f"\nheaders that cost most to parse (summed over units, inclusive):")
    print(f"{'seconds':>8} {'units':>5} {'share':>6}  header")
    for header, duration in header_us.most_common(args.top):
        print(f"{seconds(duration):8.1f} {header_units[header]:5d} "
              f"{100 * duration / total_us:5.1f}%  {header}")
    print(f"\ntemplates that cost most to instantiate (summed, nested instantiations overlap):")
    for family, duration in template_us.most_common(args.top):
        print(f"{seconds(duration):8.1f}  {family}")
    print(f"\nslowest translation units:")
    for unit, duration in sorted(unit_us.items(), key=lambda item: -item[1])[:args.top]:
        print(f"{seconds(duration):8.1f}  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
