"""The recordings' unit tests: an `asterisk -rx` that keeps an AstDB, for the spool choice."""

from __future__ import annotations

import pytest

from tests.helpers.fake_astdb import FakeAsteriskCli


@pytest.fixture
def asterisk_cli(monkeypatch: pytest.MonkeyPatch) -> FakeAsteriskCli:
    fake = FakeAsteriskCli()
    monkeypatch.setattr("hotline.recordings.spool.subprocess.run", fake)
    return fake
