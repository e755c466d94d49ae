"""The import graph of the product: no module imports itself through others (no cycle
between or inside packages). The layer contract (.importlinter) is checked by scripts/test."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    g = grimp.build_graph("hotline", exclude_type_checking_imports=True)
    graph = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


# Our modules are imported at the top of a module; only the composition root (app/: the CLI
# loads each command's subsystem when it runs, so that `--help` starts at once) imports them
# inside functions.
LAZY_ALLOWED = ("hotline/app/",)


def test_our_modules_are_imported_at_the_top() -> None:
    root = Path(__file__).resolve().parents[2]
    inside: list[str] = []
    for path in sorted((root / "hotline").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(LAZY_ALLOWED) or "/migrations/" in rel:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("hotline"):
                        inside.append(f"{rel}:{sub.lineno} {sub.module}")
    assert sorted(set(inside)) == []
