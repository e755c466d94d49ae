"""The bridge's durable outbox: a local SQLite file between AMI and the database.

Every event the assembler uses is appended here before it is processed; a call
that ends moves, in the same transaction, from its events to one `finished`
row; the finished row is deleted only once the call record is committed to the
database. So a bridge killed at any point restarts where it was (open calls are
rebuilt by replaying their events), and a database that is down only delays the
records: they wait here, not in memory. Its `meta` table keeps when it first ran and
when the bridge last heard of Asterisk (the end of the calls an Asterisk restart cut, even
if the bridge restarted too).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.linkage import FinishedLinkage, is_helper_leg

R = TypeVar("R")

# What the assembler reads (crm_bridge/assembler.py); everything else is not kept.
USED_EVENTS = frozenset(
    {
        "Newchannel",
        "UserEvent",
        "QueueCallerJoin",
        "AgentConnect",
        "AgentComplete",
        "QueueCallerAbandon",
        "Hangup",
        "ConfbridgeJoin",
        "ConfbridgeLeave",
    }
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    linkedid TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_linkedid ON event (linkedid);
CREATE TABLE IF NOT EXISTS finished (
    linkedid TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def used(event: Mapping[str, str]) -> bool:
    return (
        bool(event.get("Linkedid"))
        and event.get("Event") in USED_EVENTS
        and not is_helper_leg(event)
    )


# A finished call as a JSON object, field by field of its declaration (assembler.py
# FinishedCall): times ISO 8601, enumerations their value, tuples lists, a linkage its own
# form (FinishedLinkage.to_json), another record (Speech) an object of its fields. A field
# added there needs nothing here; a field absent from an older journal takes its default.
def encode(call: FinishedCall) -> str:
    return json.dumps(_plain(call), ensure_ascii=False)


def decode(body: str) -> FinishedCall:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"a finished call is a JSON object, not {body[:40]!r}")
    return _record(FinishedCall, data)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, FinishedLinkage):
        return value.to_json()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def _record(kind: Callable[..., R], data: Mapping[str, object]) -> R:
    hints = _hints(kind)
    # Any: each value is converted by its declared type (_value), which mypy cannot follow
    values: dict[str, Any] = {name: _value(hints[name], raw) for name, raw in data.items()}
    return kind(**values)


@cache
def _hints(kind: object) -> dict[str, object]:
    return get_type_hints(kind)


def _value(kind: object, raw: object) -> object:
    """A JSON value back into the declared type `kind`."""
    if raw is None:
        return None
    if get_origin(kind) in (Union, UnionType):  # X | None
        (kind,) = (k for k in get_args(kind) if k is not type(None))
    if get_origin(kind) is tuple and isinstance(raw, list):  # tuple[X, ...]
        item = get_args(kind)[0]
        return tuple(_value(item, v) for v in raw)
    if kind is datetime and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if kind is FinishedLinkage and isinstance(raw, dict):
        return FinishedLinkage.from_json(raw)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(raw)
    if isinstance(kind, type) and is_dataclass(kind) and isinstance(raw, dict):
        return _record(kind, raw)
    return raw


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a process kill
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def append(self, events: Iterable[Mapping[str, str]]) -> int:
        """Keep the events the assembler uses, in one transaction; how many were kept."""
        rows = [(e["Linkedid"], json.dumps(dict(e), ensure_ascii=False)) for e in events if used(e)]
        if rows:
            with self._tx():
                self._db.executemany("INSERT INTO event (linkedid, body) VALUES (?, ?)", rows)
        return len(rows)

    def finish(self, calls: Iterable[FinishedCall]) -> None:
        """Calls that ended: their events give way to one row each, atomically."""
        calls = list(calls)
        if not calls:
            return
        with self._tx():
            for call in calls:
                self._db.execute(
                    "INSERT OR REPLACE INTO finished (linkedid, body) VALUES (?, ?)",
                    (call.linkedid, encode(call)),
                )
                self._db.execute("DELETE FROM event WHERE linkedid = ?", (call.linkedid,))

    def stored(self, linkedids: Iterable[str]) -> None:
        """Committed to the database: no longer needed here."""
        ids = [(i,) for i in linkedids]
        with self._tx():
            self._db.executemany("DELETE FROM finished WHERE linkedid = ?", ids)

    def open_events(self) -> list[dict[str, str]]:
        """Events of calls not yet finished, in arrival order (to rebuild them after a restart)."""
        cur = self._db.execute("SELECT body FROM event ORDER BY seq")
        return [json.loads(body) for (body,) in cur]

    def pending(self, limit: int = 500) -> list[FinishedCall]:
        cur = self._db.execute("SELECT body FROM finished ORDER BY rowid LIMIT ?", (limit,))
        return [decode(body) for (body,) in cur]

    def linkedids(self) -> set[str]:
        """Calls this journal holds: open ones and finished ones not yet stored."""
        cur = self._db.execute("SELECT linkedid FROM event UNION SELECT linkedid FROM finished")
        return {str(i) for (i,) in cur}

    def started_at(self) -> datetime:
        """When this journal (so this bridge's var directory) first ran; kept for good."""
        now = datetime.now(UTC).isoformat()
        with self._tx():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('started_at', ?)", (now,))
        row = self._db.execute("SELECT value FROM meta WHERE key = 'started_at'").fetchone()
        return datetime.fromisoformat(row[0])

    def heard(self, when: datetime) -> None:
        """The bridge last heard of Asterisk (its AMI session was up) at `when`."""
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('asterisk_heard_at', ?)", (when.isoformat(),)
            )

    def last_heard(self) -> datetime | None:
        """What heard() kept last, through a restart of the bridge; None before any."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'asterisk_heard_at'").fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    def counts(self) -> tuple[int, int]:
        """(events of open calls, finished calls waiting for the database)."""
        events = self._db.execute("SELECT count(*) FROM event").fetchone()[0]
        finished = self._db.execute("SELECT count(*) FROM finished").fetchone()[0]
        return int(events), int(finished)

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
