"""Analysis: counts by type/topic/district/unit per day and week, rising topics, the
weekly HTML report; knowledge questions becoming searchable entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from hotline.workorders import analysis, knowledge
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.service import WorkOrderService
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, mo: int, d: int, h: int = 10) -> datetime:
    return datetime(y, mo, d, h, tzinfo=SH)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[WorkOrderService]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        sample_units(s)
        yield make_service(s, FixedClock(sh(2025, 6, 2)), tmp_path / "sms.jsonl")
    engine.dispose()


def add(svc: WorkOrderService, when: datetime, topic: str, rtype: str = "complaint") -> None:
    svc.clock.set(when)  # type: ignore[attr-defined]
    order = svc.create(request_type=rtype, topic=topic, district="兴宁区")
    if topic == "噪音":
        svc.dispatch(order.number, "agent1", "ga")


@pytest.fixture
def data(svc: WorkOrderService) -> None:
    # Week of Mon 2 Jun: 噪音 once, 供水 twice. Week of Mon 9 Jun: 噪音 ×4, 供水 ×2.
    add(svc, sh(2025, 6, 3), "噪音")
    add(svc, sh(2025, 6, 3), "供水", "help")
    add(svc, sh(2025, 6, 4), "供水", "help")
    for day in (9, 9, 10, 12):
        add(svc, sh(2025, 6, day), "噪音")
    add(svc, sh(2025, 6, 10), "供水", "help")
    add(svc, sh(2025, 6, 11, 23), "供水", "consultation")  # 23:00 Shanghai, still the 11th


def test_counts_per_day_and_week(svc: WorkOrderService, data: None) -> None:
    by_day = analysis.counts(svc, date(2025, 6, 9), date(2025, 6, 16), "topic")
    assert {d: dict(c) for d, c in by_day.items()} == {
        "2025-06-09": {"噪音": 2},
        "2025-06-10": {"噪音": 1, "供水": 1},
        "2025-06-11": {"供水": 1},
        "2025-06-12": {"噪音": 1},
    }
    by_week = analysis.counts(svc, date(2025, 6, 2), date(2025, 6, 16), "type", per="week")
    assert {d: dict(c) for d, c in by_week.items()} == {
        "2025-06-02": {"complaint": 1, "help": 2},
        "2025-06-09": {"complaint": 4, "help": 1, "consultation": 1},
    }
    by_unit = analysis.counts(svc, date(2025, 6, 2), date(2025, 6, 16), "unit", per="week")
    assert dict(by_unit["2025-06-09"]) == {"ga": 4, "(not dispatched)": 2}
    by_district = analysis.counts(svc, date(2025, 6, 2), date(2025, 6, 9), "district")
    assert sum(sum(c.values()) for c in by_district.values()) == 3
    with pytest.raises(ValueError, match="allowed: type, topic, district, unit"):
        analysis.counts(svc, date(2025, 6, 2), date(2025, 6, 9), "colour")


def test_rising_topics(svc: WorkOrderService, data: None) -> None:
    # 噪音 4 ≥ 1.5 × 1 and ≥ 3: rising. 供水 2 < 3: not.
    assert analysis.rising_topics(svc, date(2025, 6, 9)) == [analysis.Rising("噪音", 4, 1)]


def test_weekly_report(svc: WorkOrderService, data: None, tmp_path: Path) -> None:
    path = analysis.weekly_report(svc, date(2025, 6, 9), tmp_path / "report")
    html = path.read_text(encoding="utf-8")
    assert "受理工单 6 件" in html and "噪音: 4 (上周 1)" in html
    pngs = sorted(p.name for p in (tmp_path / "report").glob("*.png"))
    assert pngs == [f"report-2025-06-09-{d}.png" for d in sorted(analysis.DIMENSIONS)]


def test_knowledge_question_answered_becomes_searchable(svc: WorkOrderService) -> None:
    svc.clock.set(sh(2025, 9, 30, 15))  # type: ignore[attr-defined]
    q = knowledge.ask(svc, "ga", "新生儿落户需要什么材料？", "agent1")
    # 3 working days after Tue 30 Sep: Thu 9, Fri 10, Sat 11 Oct (make-up)
    assert q.due_at == datetime(2025, 10, 11, 23, 59, 59, tzinfo=SH)
    with pytest.raises(WorkOrderError, match="another unit"):
        knowledge.answer(svc, q.id or 0, "zj", "……")
    entry = knowledge.answer(svc, q.id or 0, "ga", "出生医学证明、父母户口簿", tags="户籍")
    assert [e.id for e in knowledge.search(svc, "落户 材料")] == [entry.id]
    assert [e.id for e in knowledge.search(svc, "户籍")] == [entry.id]
    assert knowledge.search(svc, "社保") == []
    with pytest.raises(WorkOrderError, match="already answered"):
        knowledge.answer(svc, q.id or 0, "ga", "again")


def test_unanswered_question_is_overdue(svc: WorkOrderService) -> None:
    svc.clock.set(sh(2025, 6, 9))  # type: ignore[attr-defined]
    q = knowledge.ask(svc, "zj", "物业维修基金如何申请？", "agent1")
    svc.clock.set(sh(2025, 6, 13))  # type: ignore[attr-defined]
    assert [x.id for x in knowledge.overdue_questions(svc)] == [q.id]
