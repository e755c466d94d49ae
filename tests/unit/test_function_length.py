"""No function in the product is longer than 60 lines (issue 18): a longer one is split
into named steps. Counted from `def` to its last line; a nested function counts on its
own too (and within its parent). hotline/migrations is generated code and not counted."""

from __future__ import annotations

import ast
from pathlib import Path

PRODUCT = Path(__file__).resolve().parents[2] / "hotline"
MOST = 60


def long_functions(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MOST:
                    where = path.relative_to(root.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_60_lines() -> None:
    assert long_functions(PRODUCT) == []


def test_the_count_sees_nested_functions(tmp_path: Path) -> None:
    inner = "\n".join(f"        x{i} = {i}" for i in range(60))
    (tmp_path / "m.py").write_text(f"def outer():\n    def inner():\n{inner}\n")
    assert long_functions(tmp_path) == [
        f"{tmp_path.name}/m.py:1 outer (62 lines)",
        f"{tmp_path.name}/m.py:2 inner (61 lines)",
    ]
