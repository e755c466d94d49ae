"""The product's exceptions: each lives in its package's errors.py (ConfigError in the
kernel's, with the id "config.invalid": every layer reports its config mistakes with it) and
has a stable error_id of its own,
dotted and lower case, named for its package (`workorders.invalid_transition`), unique.

The classes are found by reading every source file (ast), so a class defined inside a
function, or in a file no package imports, is seen too.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import hotline
from hotline.kernel.errors import HotlineError

PACKAGE = Path(hotline.__file__).resolve().parent
ERROR_ID_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# The one exception outside an errors.py, and the one that is no HotlineError.
CONFIG_ERROR = ("hotline.kernel.errors", "ConfigError")
ROOT_ID = "hotline.error"  # kernel/errors.py: HotlineError, the root of the others
BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def module_name(path: Path) -> str:
    parts = ["hotline", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def sources() -> dict[str, str]:
    return {
        module_name(path): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def base_names(node: ast.ClassDef) -> Iterator[str]:
    for base in node.bases:
        if isinstance(base, ast.Name):
            yield base.id
        elif isinstance(base, ast.Attribute):  # `membership.AmiRefused`
            yield base.attr


def exception_classes(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(module, class) of every class that derives from an exception, nested ones too:
    a builtin exception, or (by name) a class found to be one."""
    classes = [
        (module, node)
        for module, text in texts.items()
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ClassDef)
    ]
    known = set(BUILTIN_EXCEPTIONS)
    found: dict[tuple[str, str], None] = {}
    grew = True
    while grew:
        grew = False
        for module, node in classes:
            if (module, node.name) not in found and any(b in known for b in base_names(node)):
                found[(module, node.name)] = None
                known.add(node.name)
                grew = True
    return sorted(found)


def misplaced(texts: dict[str, str]) -> list[str]:
    return [
        f"{module}.{name}"
        for module, name in exception_classes(texts)
        if module.rsplit(".", 1)[-1] != "errors" and (module, name) != CONFIG_ERROR
    ]


def errors_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(hotline.__path__, "hotline.")
        if m.name.rsplit(".", 1)[-1] == "errors"
    )


def classes() -> list[type[BaseException]]:
    """The exception classes themselves, imported from their modules."""
    texts = sources()
    wrong = set(misplaced(texts))  # test_every_exception_lives_in_an_errors_module names them
    found = []
    for module, name in exception_classes(texts):
        if f"{module}.{name}" in wrong:
            continue
        value = getattr(importlib.import_module(module), name)
        assert isinstance(value, type) and issubclass(value, BaseException)
        found.append(value)
    return found


def test_every_exception_lives_in_an_errors_module() -> None:
    assert misplaced(sources()) == [], "move these into their package's errors.py"


def test_the_scan_sees_the_exceptions() -> None:
    """The scan finds what it should (a broken one would pass every check above)."""
    found = set(exception_classes(sources()))
    assert {
        ("hotline.kernel.errors", "HotlineError"),
        ("hotline.workorders.errors", "InvalidTransition"),  # a subclass of a subclass
        ("hotline.agi.errors", "AGIDeadChannel"),
        ("hotline.auth.errors", "UserError"),
        CONFIG_ERROR,
    } <= found
    assert {m for m, _ in found} == set(errors_modules())


def test_the_scan_finds_a_misplaced_exception() -> None:
    texts = {
        "hotline.x.errors": "class XError(HotlineError): ...\nclass HotlineError(Exception): ...",
        "hotline.x.service": (
            "import hotline.x.errors as errors\n"
            "class Fine: ...\n"
            "class Sub(errors.XError): ...\n"
            "def f():\n    class Inner(ValueError): ...\n"
        ),
    }
    assert misplaced(texts) == ["hotline.x.service.Inner", "hotline.x.service.Sub"]


def test_every_exception_has_an_error_id_of_its_own() -> None:
    wrong = [
        f"{cls.__module__}.{cls.__qualname__}: {vars(cls).get('error_id')!r}"
        for cls in classes()
        if not isinstance(vars(cls).get("error_id"), str)
        or not ERROR_ID_RE.match(vars(cls)["error_id"])
    ]
    assert wrong == [], f"each needs its own error_id matching {ERROR_ID_RE.pattern}"


def test_error_ids_are_unique_and_named_for_their_package() -> None:
    ids: dict[str, str] = {}
    for cls in classes():
        where = f"{cls.__module__}.{cls.__qualname__}"
        error_id = str(vars(cls)["error_id"])
        assert error_id not in ids, f"{where} and {ids[error_id]}: {error_id}"
        ids[error_id] = where
        package = "config" if cls.__name__ == CONFIG_ERROR[1] else cls.__module__.split(".")[1]
        assert error_id == ROOT_ID or error_id.split(".")[0] == package, where
    assert ids[ROOT_ID] == "hotline.kernel.errors.HotlineError"


def test_every_exception_is_a_hotline_error() -> None:
    others = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes()
        if not issubclass(cls, HotlineError)
    ]
    assert others == []


def test_the_builtin_bases_stay() -> None:
    """`except ValueError` clauses (the CLI's, pydantic validators') rely on these."""
    from hotline.acd.errors import LiveNumbersError, MalformedEvent, UnknownReason
    from hotline.agi.errors import AGIDeadChannel, AGIError, AGIHangup, BlockError
    from hotline.auth.errors import UserError
    from hotline.crm_bridge.errors import CdrError
    from hotline.workorders.errors import InvalidTransition, WorkOrderError

    for cls in (UnknownReason, MalformedEvent, BlockError, UserError, CdrError):
        assert issubclass(cls, ValueError), cls
    assert issubclass(LiveNumbersError, RuntimeError)
    assert issubclass(AGIDeadChannel, AGIError) and issubclass(AGIDeadChannel, AGIHangup)
    assert issubclass(InvalidTransition, WorkOrderError)
