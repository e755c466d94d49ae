"""The schema and the bridge's writes on a real PostgreSQL (SQLite is the default).

Needs a PostgreSQL server: HOTLINE_TEST_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/postgres (a throw-away database is created).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.crm_bridge.assembler import CallAssembler
from hotline.crm_bridge.service import store_call
from hotline.kernel.db import make_engine, upgrade
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.models import WorkOrder
from tests.helpers.ami_transcript import load


def test_migrate_and_store_calls_on_postgresql(pg_url: str) -> None:
    upgrade(pg_url)
    upgrade(pg_url)  # at head already: nothing to do, no error
    engine = make_engine(pg_url)
    asm = CallAssembler()
    calls = [c for ev in load("ami_three_calls.txt") if (c := asm.feed(ev))]
    for _ in range(2):  # the same calls twice: still one row each
        with Session(engine) as s:
            for call in calls:
                store_call(
                    s, call, tenant="nanning", calendar=WorkCalendar(), tz=ZoneInfo("Asia/Shanghai")
                )
            s.commit()
    with Session(engine) as s:
        records = s.exec(select(CallRecord)).all()
        assert sorted(r.caller_number for r in records) == [
            "13800138001",
            "13800138002",
            "13800138003",
        ]
        answered = next(r for r in records if r.disposition == "answered")
        assert answered.started_at.utcoffset() is not None
        assert answered.started_at == calls[0].started_at
        assert [o.caller_number for o in s.exec(select(WorkOrder))] == ["13800138001"]
    engine.dispose()
