"""PostgreSQL stopped while calls complete, then started: exactly one call record per call
(issue 7), thanks to the bridge's durable outbox (crm_bridge/journal.py) and its retries.

The database is a private PostgreSQL cluster (tests/helpers/private_pg.py: the machine's
shared server stays up), written by a second bridge (tests/helpers/bridge.py) on the same
Asterisk as the test hotline, whose own bridge (SQLite) runs throughout and is the reference.
The menu speaks 0.3 s tones (tone_ivr), so that the answered calls reach an agent at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.crm_bridge.journal import Journal
from hotline.kernel.db import make_engine
from tests.helpers.bridge import SecondBridge
from tests.helpers.private_pg import PrivatePostgres
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller, CallInProgress

# (caller, key): a complaint (agent 1001), the general queue, three hung up in the menu
CALLS = [
    ("13913000001", "3"),
    ("13913000002", "0"),
    ("13913000003", None),
    ("13913000004", None),
    ("13913000005", None),
]


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres().init()
    try:
        pg.start()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def pg_bridge(
    hotline: Hotline, postgres: PrivatePostgres, tmp_path: Path
) -> Iterator[SecondBridge]:
    b = SecondBridge(hotline, tmp_path / "bridge-pg", {"HOTLINE_DATABASE_URL": postgres.url})
    b.start()  # migrates the private database, then logs in to AMI
    try:
        yield b
    finally:
        b.stop()


def _place(tmp_path: Path, i: int, number: str, key: str | None) -> CallInProgress:
    caller = Caller(tmp_path, port=5130 + i, media_port=18300 + 20 * i)
    if key is None:
        return caller.start(number, None, before_key_ms=500, talk_ms=1000)
    return caller.start(number, key, before_key_ms=1000, talk_ms=2000)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_postgresql_stopped_while_calls_complete_loses_and_duplicates_nothing(
    hotline: Hotline,
    tone_ivr: Path,
    postgres: PrivatePostgres,
    pg_bridge: SecondBridge,
    tmp_path: Path,
) -> None:
    postgres.stop("immediate")
    calls = [_place(tmp_path, i, number, key) for i, (number, key) in enumerate(CALLS)]
    for (number, _), call in zip(CALLS, calls, strict=True):
        result = call.wait(90)
        assert result.ok, (number, result.stdout[-2000:])
    journal = Journal(pg_bridge.var / "bridge" / "journal.db")
    try:
        deadline = time.monotonic() + 30
        while journal.counts() != (0, len(CALLS)):  # every call finished, none stored
            assert time.monotonic() < deadline, (journal.counts(), pg_bridge.tail())
            time.sleep(0.2)
        pg_bridge.wait_logged("storing calls failed", 1)
        postgres.start()
        records = [pg_bridge.record(number, timeout=60) for number, _ in CALLS]
        deadline = time.monotonic() + 10
        while journal.counts() != (0, 0):  # the outbox lets a call go once it is stored
            assert time.monotonic() < deadline, (journal.counts(), pg_bridge.tail())
            time.sleep(0.2)
    finally:
        journal.close()

    engine = make_engine(postgres.url)
    try:
        with Session(engine) as s:
            stored = s.exec(select(CallRecord)).all()
    finally:
        engine.dispose()
    assert len(stored) == len(CALLS)  # nothing else, and no call twice
    assert sorted(r.caller_number for r in stored) == [number for number, _ in CALLS]
    for (number, _), theirs in zip(CALLS, records, strict=True):
        ours = hotline.wait_call(number)  # the hotline's own bridge saw it all
        assert theirs.linkedid == ours["linkedid"]
        assert theirs.disposition == ours["disposition"], number
        assert theirs.agent == ours["agent"] and theirs.queue == ours["queue"], number
        assert theirs.started_at == _time(ours["started_at"])
        assert theirs.ended_at == _time(ours["ended_at"])
        assert theirs.source == ours["source"] == "ami"
    assert records[0].disposition == "answered" and records[0].agent == "1001"
    assert {r.disposition for r in records[2:]} == {"abandoned_in_ivr"}
