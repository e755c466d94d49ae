"""Shared by the unit tests of several packages."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def asterisk_root(tmp_path: Path) -> Path:
    """An empty Asterisk root that `hotline.render` can write its config into."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("asterisk:x:0:0::/:/bin/false\n")
    return root
