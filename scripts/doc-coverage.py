#!/usr/bin/env python3
"""Lists the public symbols of the library modules that have no doc comment.

Reads the symbol graphs that `swift package dump-symbol-graph --minimum-access-level public`
writes to .build/<triple>/symbolgraph/ (MODULE.symbols.json, and MODULE@OTHER.symbols.json for
extensions of another module's types). Prints one line per undocumented symbol, then the counts
per module, and exits 1 when any symbol is undocumented (2 when a graph is missing).

    scripts/doc-coverage.py                      # every library module
    scripts/doc-coverage.py --modules NetCore,GameNet
    scripts/doc-coverage.py --graphs DIR --summary
"""
import argparse
import glob
import json
import os
import sys

LIBRARY_MODULES = ["NetCore", "Workers", "NetTLS", "HTTPClient", "ContentCoding", "GameNet", "HTTPTestServer"]


def find_graph_dir():
    # The newest symbolgraph folder under .build (the triple varies by machine).
    candidates = glob.glob(".build/*/symbolgraph") + glob.glob(".build/*/*/symbolgraph")
    candidates = [c for c in candidates if glob.glob(os.path.join(c, "*.symbols.json"))]
    return max(candidates, key=os.path.getmtime) if candidates else None


def graph_files(graph_dir, module):
    main = os.path.join(graph_dir, f"{module}.symbols.json")
    extensions = sorted(glob.glob(os.path.join(graph_dir, f"{module}@*.symbols.json")))
    return ([main] if os.path.exists(main) else []), extensions


def undocumented(module, paths):
    """(total, [(kind, path, file, line)]) for the module's own public declarations."""
    total, missing, seen = 0, [], set()
    for path in paths:
        with open(path) as handle:
            graph = json.load(handle)
        for symbol in graph.get("symbols", []):
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            uri = symbol.get("location", {}).get("uri", "")
            # Synthesized members (Equatable's ==, a default init) and members inherited from
            # another module's protocol have no location in this module's sources.
            if f"/Sources/{module}/" not in uri:
                continue
            usr = symbol["identifier"]["precise"]
            if usr in seen:
                continue
            seen.add(usr)
            total += 1
            if not symbol.get("docComment", {}).get("lines"):
                line = symbol.get("location", {}).get("position", {}).get("line", 0) + 1
                missing.append((symbol["kind"]["identifier"].removeprefix("swift."),
                                ".".join(symbol["pathComponents"]),
                                uri.split("/Sources/", 1)[-1], line))
    return total, missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default=",".join(LIBRARY_MODULES),
                        help="comma-separated modules (default: every library module)")
    parser.add_argument("--graphs", help="the symbolgraph folder (default: the newest .build/*/symbolgraph)")
    parser.add_argument("--summary", action="store_true", help="print only the counts per module")
    args = parser.parse_args()

    graph_dir = args.graphs or find_graph_dir()
    if not graph_dir:
        print("doc-coverage: no symbol graphs; run `swift package dump-symbol-graph "
              "--minimum-access-level public` first", file=sys.stderr)
        return 2

    counts, status = [], 0
    for module in [m for m in args.modules.split(",") if m]:
        main_graph, extensions = graph_files(graph_dir, module)
        if not main_graph:
            print(f"doc-coverage: no symbol graph for {module} in {graph_dir}", file=sys.stderr)
            status = 2
            continue
        total, missing = undocumented(module, main_graph + extensions)
        counts.append((module, total, len(missing)))
        if not args.summary:
            for kind, name, file, line in missing:
                print(f"{file}:{line}: {module} {kind} {name}: no doc comment")
    print(f"{'module':<16} {'public':>7} {'undocumented':>13}")
    for module, total, count in counts:
        print(f"{module:<16} {total:>7} {count:>13}")
    undocumented_total = sum(c for _, _, c in counts)
    print(f"{'all':<16} {sum(t for _, t, _ in counts):>7} {undocumented_total:>13}")
    if status:
        return status
    return 1 if undocumented_total else 0


if __name__ == "__main__":
    sys.exit(main())
