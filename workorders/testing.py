"""Helpers for tests of work orders: a migrated SQLite database and a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from hotline.db import make_engine, upgrade


def migrated_engine(directory: Path) -> Engine:
    """A fresh SQLite database in `directory`, at every migration head."""
    url = f"sqlite:///{directory / 'hotline.db'}"
    upgrade(url)
    return make_engine(url)


class FixedClock:
    """A clock a test moves by hand: `clock()` is now, `clock.advance(hours=25)`."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when.astimezone(UTC)
        return self.now
