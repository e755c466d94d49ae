"""Asterisk's own call detail records (CDR), read from the SQLite file it writes.

hotline/asterisk/templates/cdr_sqlite3_custom.conf.j2 makes Asterisk write one row per CDR
into `<root>/var/log/asterisk/hotline-cdr.db`, with the columns of CDR_COLUMNS and
times as seconds since the epoch. A call (one Linkedid) has several CDRs: the
caller's leg, each agent's leg, each Local channel. A malformed row is logged and
skipped, never fatal: the CDR is the backstop, not the source.

Times come to the second, as `2026-11-24T23:41:49+0000` (the template's format);
also read: epoch seconds, and Asterisk's default `2026-11-24 23:41:49`, which is
the local time of Asterisk, UTC in the root we build (etc/localtime is Etc/UTC).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.crm_bridge.errors import CdrError

log = logging.getLogger(__name__)

# The table's columns, in the order of the template's `fields` (hotline/asterisk/templates).
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
    when: datetime | None = None
    try:
        seconds = float(text) if text else 0.0
        when = datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
    except ValueError:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise CdrError(f"{name}: not a time: {text!r}") from None
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    # Asterisk writes nothing (or 0, or the year 1970) for a time that never came
    if when is None or when.year < 2000:
        if required:
            raise CdrError(f"{name}: missing")
        return None
    return when


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
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        ids = list(linkedids)
        if not ids:
            ids = _ended_since(db, ended_after)
        rows = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT {', '.join(CDR_COLUMNS)} FROM {CDR_TABLE} "
                f"WHERE linkedid IN ({marks}) ORDER BY AcctId",
                chunk,
            ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the file exists, no CDR written yet
            return []
        raise
    finally:
        db.close()
    parsed = parse_rows(rows)
    if ended_after is not None and not linkedids:
        late = {r.linkedid for r in parsed if r.ended >= ended_after}
        parsed = [r for r in parsed if r.linkedid in late]
    return parsed


def _ended_since(db: sqlite3.Connection, since: datetime | None) -> list[str]:
    """Linkedids with a row that may have ended since `since`: the text is compared a day
    early (whatever the offset Asterisk wrote), the exact test is made once parsed."""
    if since is None:
        query, params = f"SELECT DISTINCT linkedid FROM {CDR_TABLE}", []
    else:
        early = (since - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
        query = (
            f"SELECT DISTINCT linkedid FROM {CDR_TABLE} WHERE typeof(ended) IN ('integer', "
            "'real') OR replace(substr(ended, 1, 19), ' ', 'T') >= ?"
        )
        params = [early]
    return [str(i) for (i,) in db.execute(query, params)]
