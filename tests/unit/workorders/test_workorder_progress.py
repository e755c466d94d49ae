"""The contract used by the IVR: a caller's own orders, and the revisit task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.deadlines import RequestType
from hotline.workorders.drafts import draft_from_call
from hotline.workorders.models import OrgUnit, RevisitTask, WorkOrder
from hotline.workorders.progress import find_order_for_caller, open_orders_for_caller
from hotline.workorders.revisits import create_revisit_task
from tests.helpers.workorders_env import migrated_engine

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        yield s
    engine.dispose()


def draft(s: Session, linkedid: str, caller: str, rtype: str = "complaint") -> WorkOrder:
    order = draft_from_call(
        s,
        linkedid=linkedid,
        request_type=rtype,
        caller_number=caller,
        agent="1001",
        emergency=False,
        # Tue 30 Sep 2025 15:00 Shanghai; 1–8 Oct off, Sat 11 Oct on: day 10 = Tue 21 Oct
        accepted_at=datetime(2025, 9, 30, 7, 0, tzinfo=UTC),
        calendar=WorkCalendar(),
        tz=SH,
    )
    assert order is not None
    s.commit()
    return order


def test_open_orders_only_of_that_caller_and_unfinished(session: Session) -> None:
    a = draft(session, "L1", "13800000001")
    draft(session, "L2", "13800000002")
    done = draft(session, "L3", "13800000001", "consultation")
    done.status = "closed"
    unit = OrgUnit(code="ga", name="市公安局")
    session.add(unit)
    session.flush()
    a.lead_unit_id = unit.id
    a.status = "dispatched"
    session.commit()
    got = open_orders_for_caller(session, "13800000001")
    assert [p.number for p in got] == [a.number]
    p = got[0]
    assert p.status == "dispatched" and p.status_zh == "已派发，正在办理"
    assert p.unit_name == "市公安局"
    assert p.request_type is RequestType.COMPLAINT
    assert p.due_at == datetime(2025, 10, 21, 23, 59, 59, tzinfo=SH)
    assert p.due_at is not None and p.due_at.utcoffset() is not None
    assert open_orders_for_caller(session, "") == []


def test_find_order_by_number_needs_own_number_or_query_code(session: Session) -> None:
    a = draft(session, "L1", "13800000001")
    assert len(a.query_code) == 6 and a.query_code.isdigit()
    own = find_order_for_caller(session, a.number, "13800000001")
    assert own is not None and own.status_zh == "已受理，等待派发" and own.unit_name is None
    assert find_order_for_caller(session, a.number, "13900000009") is None
    wrong = "000000" if a.query_code != "000000" else "111111"
    assert find_order_for_caller(session, a.number, "13900000009", wrong) is None
    other = find_order_for_caller(session, a.number, "13900000009", a.query_code)
    assert other is not None and other.number == a.number
    assert find_order_for_caller(session, "20990101-000001", "13800000001") is None


def test_create_revisit_task_links_the_order(session: Session) -> None:
    a = draft(session, "L1", "13800000001")
    task = create_revisit_task(session, linkedid="L1", caller_number="13800000001", reason="回电")
    loose = create_revisit_task(session, linkedid="X9", caller_number="13800000002", reason="")
    session.commit()
    rows = session.exec(select(RevisitTask).order_by(RevisitTask.id)).all()  # type: ignore[arg-type]
    assert [(r.order_id, r.status, r.reason) for r in rows] == [
        (a.id, "open", "回电"),
        (None, "open", ""),
    ]
    assert task.created_at.tzinfo is not None and loose.id is not None
