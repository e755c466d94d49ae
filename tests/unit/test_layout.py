"""The tests mirror the source: each unit test sits in the folder of the package it tests
(tests/unit/acd/ for hotline/acd/, …), a test imports no other test module (what tests
share is in tests/helpers/, fixtures in conftest.py), and the installed package ships
no test code.

Besides the package folders, tests/unit/ holds only the tests of the test tree itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
UNIT = TESTS / "unit"
# tests/unit/'s own files: this test, the check of the integration tests' callers, and the
# checks of the whole product (its import graph, its functions' length, its exceptions).
UNIT_TOP = {
    "__init__.py",
    "conftest.py",
    "test_layout.py",
    "test_integration_numbers.py",
    "test_import_graph.py",
    "test_function_length.py",  # of the whole product
    "test_docs.py",  # the README and docs/ against the code
    "test_errors.py",  # every exception in an errors.py, with its error_id
    "test_package_files.py",  # the same files in every domain package
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in `path`, relative ones made absolute."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from tests import unit`, `from . import test_x`
                yield node.lineno, f"{base}.{alias.name}"


def source_of(folder: Path) -> Path:
    """The source package that tests/unit/<folder> mirrors: hotline/<folder>, or for the
    benchmark harness that stays in the checkout, bench/ itself."""
    return REPO / folder if folder.parts[0] == "bench" else REPO / "hotline" / folder


def is_test_code(module: str) -> bool:
    return module == "tests" or module.startswith("tests.")


def may_be_imported_by_tests(module: str) -> bool:
    return module == "tests.helpers" or module.startswith("tests.helpers.")


def test_tests_import_only_tests_helpers() -> None:
    wrong = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in imported(path)
        if is_test_code(module) and not may_be_imported_by_tests(module) and module != "tests"
    ]
    assert wrong == [], (
        "a test imports another test module; what tests share goes into tests/helpers/, "
        "fixtures into a conftest.py:\n" + "\n".join(wrong)
    )


def test_unit_tests_mirror_the_source_packages() -> None:
    wrong = []
    for path in sorted(UNIT.rglob("*.py")):
        folder = path.parent.relative_to(UNIT)
        if not folder.parts:
            if path.name not in UNIT_TOP:
                wrong.append(f"{path.relative_to(REPO)}: not in a package folder")
            continue
        source = source_of(folder)
        if not (source / "__init__.py").is_file():
            wrong.append(f"{path.relative_to(REPO)}: no source package {source.relative_to(REPO)}/")
        if not (path.parent / "__init__.py").is_file():
            wrong.append(f"{path.relative_to(REPO)}: {folder}/ has no __init__.py")
    assert wrong == [], (
        "a unit test sits in tests/unit/<package>/ of the package it tests (hotline/<package>/, "
        "or bench/):\n" + "\n".join(wrong)
    )


def test_every_test_folder_is_a_package() -> None:
    """Test modules are named by their folder (tests.unit.acd.test_x), so names never clash."""
    folders = {p.parent for p in TESTS.rglob("*.py")}
    missing = sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file())
    assert missing == []


def test_the_installed_package_ships_no_test_code() -> None:
    hotline = REPO / "hotline"
    wrong = [
        f"{path.relative_to(REPO)}: a test helper (its place is tests/helpers/)"
        for path in sorted(hotline.rglob("*"))
        if path.name in ("testing.py", "testing")
    ]
    wrong += [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in sorted(hotline.rglob("*.py"))
        for line, module in imported(path)
        if is_test_code(module)
    ]
    assert wrong == [], "hotline/ holds test code:\n" + "\n".join(wrong)
