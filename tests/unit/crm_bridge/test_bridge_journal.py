"""The bridge's durable outbox, with the recorded AMI transcript of three real calls:
replay gives one record per call, a bridge killed mid-call finishes the call after a
restart, and calls wait in the journal while the database is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.config.settings import Settings
from hotline.crm_bridge.journal import Journal, decode, encode, used
from hotline.crm_bridge.worker import BridgeService
from hotline.kernel.db import make_engine, upgrade
from tests.helpers.ami_transcript import load

EVENTS = load("ami_three_calls.txt")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    return make_engine(url)


def bridge(tmp_path: Path, engine: Engine) -> BridgeService:
    settings = Settings(var_dir=tmp_path)
    return BridgeService(settings, engine, ami=None, journal=Journal(tmp_path / "journal.db"))  # type: ignore[arg-type]


def records(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as s:
        return {r.linkedid: r.model_dump(exclude={"id"}) for r in s.exec(select(CallRecord)).all()}


async def test_the_same_events_twice_give_one_record_per_call(
    tmp_path: Path, engine: Engine
) -> None:
    b = bridge(tmp_path, engine)
    assert len(b.take(EVENTS)) == 3
    assert await b.store_pending() == 3
    first = records(engine)
    b.take(EVENTS)  # replayed: the same calls again
    await b.store_pending()
    assert records(engine) == first and len(first) == 3
    assert b.journal.counts() == (0, 0)


async def test_a_bridge_killed_mid_call_finishes_it_after_a_restart(
    tmp_path: Path, engine: Engine
) -> None:
    straight = bridge(tmp_path / "a", make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    upgrade(f"sqlite:///{tmp_path / 'a.db'}")
    straight.take(EVENTS)
    await straight.store_pending()
    expected = records(straight.engine)

    half = len(EVENTS) // 2
    before = bridge(tmp_path, engine)
    before.take(EVENTS[:half])
    open_calls = set(before.assembler.calls)
    assert open_calls, "the cut falls inside a call"
    before.journal.close()  # killed: the assembler's memory is gone, the journal stays

    after = bridge(tmp_path, engine)
    assert after.rebuild() > 0
    assert set(after.assembler.calls) == open_calls
    after.take(EVENTS[half:])
    await after.store_pending()
    assert records(engine) == expected


async def test_calls_wait_in_the_journal_while_the_database_is_down(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = bridge(tmp_path, engine)

    def down(calls: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(b, "_store_batch", down)
    b.take(EVENTS)
    with pytest.raises(OperationalError):
        await b.store_pending()
    assert b.journal.counts() == (0, 3) and records(engine) == {}
    # the bridge restarted, and the database is back: every call arrives, once
    b.journal.close()
    b = bridge(tmp_path, engine)
    assert b.journal.counts() == (0, 3)
    assert await b.store_pending() == 3
    assert len(records(engine)) == 3 and b.journal.counts() == (0, 0)


def test_only_the_events_the_assembler_uses_are_kept(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    kept = j.append(
        [
            {"Event": "Newchannel", "Linkedid": "1.1"},
            {"Event": "VarSet", "Linkedid": "1.1"},
            {"Event": "Hangup"},  # no Linkedid: nothing to file it under
        ]
    )
    assert kept == 1 and not used({"Event": "VarSet", "Linkedid": "1"})


def test_a_finished_call_survives_the_round_trip(tmp_path: Path, engine: Engine) -> None:
    calls = bridge(tmp_path, engine).take(EVENTS)
    assert [decode(encode(c)) for c in calls] == calls
