"""Changes of call records and work orders land in the upstream outbox in the same
transaction as the change: through the real bridge path (a recorded AMI transcript)
and the real work-order service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.config.settings import Settings
from hotline.crm_bridge.journal import Journal
from hotline.crm_bridge.upstream import capture
from hotline.crm_bridge.upstream.models import UpstreamChange
from hotline.crm_bridge.worker import BridgeService
from hotline.workorders.models import WorkOrder
from tests.helpers.ami_transcript import load
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

EVENTS = load("ami_three_calls.txt")


@pytest.fixture
def capturing() -> Iterator[None]:
    capture.set_enabled(True)
    try:
        yield
    finally:
        capture.set_enabled(None)


def changes(engine: Engine) -> list[UpstreamChange]:
    with Session(engine) as s:
        return list(s.exec(select(UpstreamChange).order_by(col(UpstreamChange.id))).all())


async def store_transcript(tmp_path: Path, engine: Engine) -> None:
    bridge = BridgeService(
        Settings(var_dir=tmp_path),
        engine,
        ami=None,  # type: ignore[arg-type]
        journal=Journal(tmp_path / "journal.db"),
    )
    bridge.take(EVENTS)
    await bridge.store_pending()
    bridge.journal.close()


async def test_each_stored_call_and_its_draft_order_is_one_change(
    tmp_path: Path, capturing: None
) -> None:
    engine = migrated_engine(tmp_path)
    await store_transcript(tmp_path, engine)
    rows = changes(engine)
    calls = [r for r in rows if r.kind == "call_record"]
    orders = [r for r in rows if r.kind == "work_order"]
    assert len(calls) == 3 and len({r.ref for r in calls}) == 3
    with Session(engine) as s:
        drafts = s.exec(select(WorkOrder)).all()
    assert [r.ref for r in orders] == [o.number for o in drafts] and drafts
    data = json.loads(calls[0].data)
    assert data["linkedid"] == calls[0].ref and "id" not in data
    assert data["started_at"].endswith("Z") and data["caller_number"]  # the full number
    order = json.loads(orders[0].data)
    assert order["status"] == "draft" and "query_code" not in order
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)

    # the same events replayed (a bridge restarted): the same records, no new change
    await store_transcript(tmp_path / "again", engine)
    assert [r.id for r in changes(engine)] == [r.id for r in rows]


def test_every_work_order_change_is_a_new_version(tmp_path: Path, capturing: None) -> None:
    engine = migrated_engine(tmp_path)
    clock = FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    with Session(engine) as s:
        sample_units(s)
        svc = make_service(s, clock, tmp_path / "sms.jsonl")
        order = svc.create(
            request_type="complaint", content="噪音扰民", caller_number="13900001234"
        )
        s.commit()
        number = order.number
        svc.dispatch(number, "agent1", "ga")
        s.commit()
    rows = [r for r in changes(engine) if r.ref == number]
    assert len(rows) == 2 and rows[0].id is not None and rows[1].id is not None
    assert rows[0].id < rows[1].id  # the version only grows
    first, second = (json.loads(r.data) for r in rows)
    assert (first["status"], first["lead_unit"]) == ("accepted", "")
    assert (second["status"], second["lead_unit"]) == ("dispatched", "ga")
    assert second["due_at"] and second["content"] == "噪音扰民"


def test_a_rolled_back_change_leaves_no_row(tmp_path: Path, capturing: None) -> None:
    engine = migrated_engine(tmp_path)
    clock = FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    with Session(engine) as s:
        make_service(s, clock, tmp_path / "sms.jsonl").create(request_type="help")
        s.flush()
        assert len(s.exec(select(UpstreamChange)).all()) == 1  # written with the change
        s.rollback()
    assert changes(engine) == []


async def test_nothing_is_captured_without_an_upstream_url(tmp_path: Path) -> None:
    capture.set_enabled(None)
    assert not capture.enabled()  # the shipped config has no upstream.url
    engine = migrated_engine(tmp_path)
    await store_transcript(tmp_path, engine)
    assert changes(engine) == []
