"""Asterisk's own call detail records (CDR), read from the SQLite file it writes.

asterisk/templates/cdr_sqlite3_custom.conf.j2 makes Asterisk write one row per CDR
into `<root>/var/log/asterisk/hotline-cdr.db`, with the columns of CDR_COLUMNS and
times as seconds since the epoch. A call (one Linkedid) has several CDRs: the
caller's leg, each agent's leg, each Local channel. A malformed row is logged and
skipped, never fatal: the CDR is the backstop, not the source.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

# The table's columns, in the order of the template's `fields` (asterisk/templates).
CDR_COLUMNS = (
    "linkedid",
    "uniqueid",
    "src",
    "clid",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "started",
    "answered",
    "ended",
    "duration",
    "billsec",
    "disposition",
)
CDR_TABLE = "cdr"


class CdrError(ValueError):
    """A CDR row that cannot be used (says which field and why)."""


@dataclass(frozen=True)
class CdrRow:
    linkedid: str
    uniqueid: str
    src: str
    dst: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    started: datetime
    answered: datetime | None
    ended: datetime
    billsec: int
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION


def _time(name: str, value: object, *, required: bool) -> datetime | None:
    text = "" if value is None else str(value).strip()
    try:
        seconds = float(text) if text else 0.0
    except ValueError:
        raise CdrError(f"{name}: not a time in seconds since the epoch: {text!r}") from None
    if seconds <= 0:  # Asterisk writes 0 for a time that never came (no answer)
        if required:
            raise CdrError(f"{name}: missing")
        return None
    return datetime.fromtimestamp(seconds, UTC)


def parse_row(values: Sequence[object]) -> CdrRow:
    """One row of the table (CDR_COLUMNS order) -> CdrRow; CdrError if unusable."""
    if len(values) != len(CDR_COLUMNS):
        raise CdrError(f"{len(values)} columns, expected {len(CDR_COLUMNS)}")
    row = dict(zip(CDR_COLUMNS, ("" if v is None else v for v in values), strict=True))
    linkedid = str(row["linkedid"]).strip()
    if not linkedid:
        raise CdrError("linkedid: empty")
    started = _time("started", row["started"], required=True)
    ended = _time("ended", row["ended"], required=True)
    assert started is not None and ended is not None
    try:
        billsec = int(float(str(row["billsec"]) or 0))
    except ValueError:
        raise CdrError(f"billsec: not a number: {row['billsec']!r}") from None
    return CdrRow(
        linkedid=linkedid,
        uniqueid=str(row["uniqueid"]),
        src=str(row["src"]),
        dst=str(row["dst"]),
        channel=str(row["channel"]),
        dstchannel=str(row["dstchannel"]),
        lastapp=str(row["lastapp"]),
        lastdata=str(row["lastdata"]),
        started=started,
        answered=_time("answered", row["answered"], required=False),
        ended=ended,
        billsec=billsec,
        disposition=str(row["disposition"]),
    )


def parse_rows(rows: Iterable[Sequence[object]]) -> list[CdrRow]:
    """The usable rows; each malformed one is logged (with its Linkedid) and skipped."""
    out = []
    for values in rows:
        try:
            out.append(parse_row(values))
        except CdrError as exc:
            first = str(values[0]) if values else "?"
            log.warning("CDR row of call %s skipped: %s", first, exc)
    return out


def read_cdr(
    path: Path, *, ended_after: datetime | None = None, linkedids: Iterable[str] = ()
) -> list[CdrRow]:
    """CDR rows of the calls with a CDR ending after `ended_after`, or of the given calls.

    Every row of such a call is returned (a call's legs end at different times).
    A missing file is no CDR yet (Asterisk creates it with the first record).
    """
    if not path.exists():
        return []
    cols = ", ".join(CDR_COLUMNS)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        ids = list(linkedids)
        if ids:
            marks = ", ".join("?" * len(ids))
            query = f"SELECT {cols} FROM {CDR_TABLE} WHERE linkedid IN ({marks})"
            params: list[object] = list(ids)
        else:
            since = ended_after.timestamp() if ended_after else 0.0
            query = (
                f"SELECT {cols} FROM {CDR_TABLE} WHERE linkedid IN "
                f"(SELECT linkedid FROM {CDR_TABLE} WHERE CAST(ended AS REAL) >= ?)"
            )
            params = [since]
        try:
            rows = db.execute(query + " ORDER BY AcctId", params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the file exists, no CDR written yet
                return []
            raise
    finally:
        db.close()
    return parse_rows(rows)
