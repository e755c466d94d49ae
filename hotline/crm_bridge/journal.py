"""The bridge's durable outbox: a local SQLite file between AMI and the database.

Every event the assembler uses is appended here before it is processed; a call
that ends moves, in the same transaction, from its events to one `finished`
row; the finished row is deleted only once the call record is committed to the
database. So a bridge killed at any point restarts where it was (open calls are
rebuilt by replaying their events), and a database that is down only delays the
records: they wait here, not in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path

from hotline.calls.models import Disposition, RecordSource
from hotline.crm_bridge.assembler import FinishedCall, Speech
from hotline.crm_bridge.linkage import FinishedLinkage, is_helper_leg

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

_DATES = {f.name for f in fields(FinishedCall) if "datetime" in str(f.type)}


def used(event: Mapping[str, str]) -> bool:
    return (
        bool(event.get("Linkedid"))
        and event.get("Event") in USED_EVENTS
        and not is_helper_leg(event)
    )


def encode(call: FinishedCall) -> str:
    data = asdict(call)
    for name in _DATES:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    data["disposition"] = call.disposition.value
    data["source"] = call.source.value
    data["queues"] = list(call.queues)
    data["linkages"] = [lk.to_json() for lk in call.linkages]
    return json.dumps(data, ensure_ascii=False)


def decode(body: str) -> FinishedCall:
    data = json.loads(body)
    for name in _DATES:
        if data[name] is not None:
            data[name] = datetime.fromisoformat(data[name])
    data["disposition"] = Disposition(data["disposition"])
    data["source"] = RecordSource(data.get("source", RecordSource.AMI.value))  # older journals
    data["queues"] = tuple(data["queues"])
    data["linkages"] = tuple(FinishedLinkage.from_json(d) for d in data.get("linkages", ()))
    heard = data.get("speech")
    data["speech"] = Speech(**heard) if isinstance(heard, dict) else None
    return FinishedCall(**data)


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
