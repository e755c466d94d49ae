"""Hermetic tests: every test runs against a var directory and a configuration of its own.

Before any test module is imported, HOTLINE_CONFIG_FILE names a configuration of the
session's own (the code's defaults and an empty var directory), and the HOTLINE_* variables
of the shell that started pytest are dropped: a hotline the user configured, or agents added
by the README's quick start, are never seen by a test. A test that loads a file of its own
names its own var_dir in it (or builds Settings(var_dir=...)).
A guard (an audit hook, tests/helpers/var_guard.py) fails any test that opens, creates,
removes or lists anything under the checkout's own var/, in this process; processes the
tests start inherit the environment above.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.var_guard import guard, touched

# Variables a developer may set for the tests themselves (where PostgreSQL is, which ports
# are free, where the Asterisk root is cached), kept; every other HOTLINE_* is dropped.
KEPT = ("HOTLINE_TEST_", "HOTLINE_CACHE_DIR")
_session_dir: str | None = None


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
    sys.addaudithook(guard)


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
