"""Hermetic tests: every test runs against a var directory and a configuration of its own.

Before any test module is imported, HOTLINE_CONFIG_FILE names a configuration of the
session's own (the code's defaults and an empty var directory), and the HOTLINE_* variables
of the shell that started pytest are dropped: a hotline the user configured, or agents added
by the README's quick start, are never seen by a test. A test that loads a file of its own
names its own var_dir in it (or builds Settings(var_dir=...)).
A guard (an audit hook) fails any test that opens, creates, removes or lists anything
under the checkout's own var/, in this process; processes the tests start inherit the
environment above.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHECKOUT_VAR = str(Path(__file__).resolve().parents[1] / "var")
# Variables a developer may set for the tests themselves (where PostgreSQL is, which ports
# are free, where the Asterisk root is cached), kept; every other HOTLINE_* is dropped.
KEPT = ("HOTLINE_TEST_", "HOTLINE_CACHE_DIR")
# Audit events whose first argument is a path the call reads, writes or lists.
PATH_EVENTS = frozenset(
    {
        "open",
        "os.mkdir",
        "os.rename",
        "os.replace",
        "os.remove",
        "os.rmdir",
        "os.listdir",
        "os.scandir",
        "os.chmod",
        "os.chown",
        "os.symlink",
        "os.link",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "sqlite3.connect",
    }
)

# Where those events carry a dir_fd (-1 or None when the path is relative to the cwd); os.open's
# "open" event has none, and its mode is None (builtins.open's is a string).
DIR_FD_AT = {
    "os.mkdir": (2,),
    "os.rmdir": (1,),
    "os.remove": (1,),
    "os.rename": (2, 3),
    "os.replace": (2, 3),
    "os.chmod": (2,),
    "os.chown": (3,),
    "os.utime": (3,),
    "os.symlink": (2,),
    "os.link": (2, 3),
}

touched: list[str] = []
_session_dir: str | None = None


class CheckoutVarTouched(RuntimeError):
    """A test reached the checkout's own var/ (not an OSError, so nothing swallows it)."""


def under_checkout_var(arg: Any) -> str | None:
    """The absolute path, when `arg` names something under the checkout's var/."""
    if isinstance(arg, int) or arg is None:
        return None
    try:
        raw = os.fsdecode(os.fspath(arg))
    except TypeError:
        return None
    if raw in ("", ":memory:") or raw.startswith("file:"):
        return None
    path = os.path.normpath(os.path.join(os.getcwd(), raw))
    if path == CHECKOUT_VAR or path.startswith(CHECKOUT_VAR + os.sep):
        return path
    return None


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event not in PATH_EVENTS or not args:
        return
    if any(i < len(args) and args[i] not in (None, -1) for i in DIR_FD_AT.get(event, ())):
        return  # a name relative to a directory descriptor (shutil.rmtree), not to the cwd
    names = args[:1] if event == "open" else args[:2]
    if event == "open" and args[1] is None and not os.path.isabs(os.fsdecode(args[0])):
        return  # os.open of a name that may be relative to a dir_fd
    hits = [p for a in names if (p := under_checkout_var(a)) is not None]
    if hits:
        touched.append(f"{event} {hits[0]}")
        raise CheckoutVarTouched(
            f"a test reached the checkout's own var/ ({event} {hits[0]}): tests use the "
            "var directory and configuration they are given (HOTLINE_VAR_DIR)"
        )


def pytest_configure(config: pytest.Config) -> None:
    global _session_dir
    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        if not name.startswith(KEPT):
            del os.environ[name]
    _session_dir = tempfile.mkdtemp(prefix="hotline-tests-")
    var = Path(_session_dir) / "var"
    var.mkdir()
    cfg = Path(_session_dir) / "hotline.yaml"
    cfg.write_text(f"var_dir: {json.dumps(str(var))}\n")
    os.environ["HOTLINE_CONFIG_FILE"] = str(cfg)
    sys.addaudithook(_guard)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def checkout_var_untouched() -> Iterator[None]:
    """Fails the test even where its code caught the guard's exception."""
    before = len(touched)
    yield
    assert len(touched) == before, f"the checkout's own var/ was touched: {touched[before:]}"


@pytest.fixture
def own_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOTLINE_VAR_DIR for a test that loads a configuration without a var_dir (the shipped
    file, a file of its own): the environment wins over the file."""
    var = tmp_path / "own-var"
    var.mkdir()
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(var))
    return var
