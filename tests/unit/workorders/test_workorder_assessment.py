"""Assessment: a small data set scored by hand equals the system's; appeals; exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from hotline.workorders import assessment, knowledge, satisfaction
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.service import WorkOrderService
from hotline.workorders.units import find_unit
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, mo: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        sample_units(s)
        s.commit()
        yield s
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(sh(2025, 6, 9, 10))


@pytest.fixture
def svc(session: Session, clock: FixedClock, tmp_path: Path) -> WorkOrderService:
    return make_service(session, clock, tmp_path / "sms.jsonl")


def june_data(svc: WorkOrderService, clock: FixedClock) -> None:
    """Unit ga in June 2025. Complaints dispatched Mon 9 Jun 10:00: sign due Tue 10 Jun,
    close due Mon 23 Jun (10 working days)."""

    def new() -> str:
        clock.set(sh(2025, 6, 9, 10))
        order = svc.create(request_type="complaint", contact="13800000001")
        svc.dispatch(order.number, "agent1", "ga")
        return order.number

    # 1: signed on time, replied on time, satisfied.
    o1 = new()
    svc.sign(o1, "ga")
    clock.set(sh(2025, 6, 20))
    svc.reply(o1, "ga", "ok")
    svc.close(o1, "agent1")
    satisfaction.rate(svc, o1, "1")
    # 2: signed late (Wed 11 Jun), replied late (Wed 25 Jun), no reply: default satisfied.
    o2 = new()
    clock.set(sh(2025, 6, 11))
    svc.sign(o2, "ga")
    clock.set(sh(2025, 6, 25))
    svc.reply(o2, "ga", "ok")
    svc.close(o2, "agent1")
    clock.set(sh(2025, 6, 26, 11))
    assert satisfaction.apply_defaults(svc)
    # 3: extended by 5 days (due Mon 30 Jun), replied Fri 27 Jun, dissatisfied.
    o3 = new()
    svc.sign(o3, "ga")
    req = svc.request_extension(o3, "ga", 5, "检测")
    svc.decide_extension(req.id or 0, "supervisor", approve=True)
    clock.set(sh(2025, 6, 27))
    svc.reply(o3, "ga", "ok")
    svc.close(o3, "agent1")
    satisfaction.rate(svc, o3, "3")
    # 4: signed, still open at the end of June, due 23 Jun: counts, late.
    o4 = new()
    svc.sign(o4, "ga")
    # 5: dispatched Wed 25 Jun, due Wed 9 Jul: open and not due, moves to July.
    clock.set(sh(2025, 6, 25))
    o5 = svc.create(request_type="complaint")
    svc.dispatch(o5.number, "agent1", "ga")
    # 6: returned by ga the day it was signed, then sent to zj: not ga's order.
    o6 = new()
    svc.sign(o6, "ga")
    svc.return_order(o6, "ga", "属住建局")
    svc.dispatch(o6, "agent1", "zj")
    # Knowledge questions to ga: one answered in time, one late.
    clock.set(sh(2025, 6, 9, 10))  # due Thu 12 Jun
    q1 = knowledge.ask(svc, "ga", "户籍迁移需要哪些材料？", "agent1")
    clock.set(sh(2025, 6, 11))
    knowledge.answer(svc, q1.id or 0, "ga", "身份证、户口簿……")
    clock.set(sh(2025, 6, 16, 10))  # due Thu 19 Jun
    q2 = knowledge.ask(svc, "ga", "居住证怎么办理？", "agent1")
    clock.set(sh(2025, 6, 20))
    knowledge.answer(svc, q2.id or 0, "ga", "到派出所……")
    clock.set(sh(2025, 7, 1, 9))


def test_hand_computed_month_equals_the_system(svc: WorkOrderService, clock: FixedClock) -> None:
    june_data(svc, clock)
    got = assessment.score_unit(svc, find_unit(svc.session, "ga"), assessment.month(2025, 6, SH))
    # By hand: counted orders 1–4 (n = 4).
    #   signing on time 1, 3, 4 = 3/4        × 15 = 11.25
    #   closing on time 1, 3 = 2/4           × 30 = 15
    #   returns 1 of 6 dispatches: 1 − 1/6   × 10 = 8.3333
    #   extensions 1 of 4: 1 − 1/4           × 10 = 7.5
    #   satisfaction rated 1, 2, 3: 2/3      × 30 = 20
    #   knowledge 1 of 2 in time             ×  5 = 2.5
    #   total 64.5833 → 64.58
    assert got.orders == 4
    assert (got.on_time_signing, got.on_time_closing, got.extensions) == (0.75, 0.5, 0.75)
    assert got.returns == round(5 / 6, 4) and got.satisfaction == round(2 / 3, 4)
    assert got.knowledge == 0.5
    assert got.score == 64.58


def test_open_not_due_moves_to_next_month(svc: WorkOrderService, clock: FixedClock) -> None:
    june_data(svc, clock)
    july = assessment.score_unit(svc, find_unit(svc.session, "ga"), assessment.month(2025, 7, SH))
    assert july.orders == 0  # order 5 is due 9 Jul but the clock is 1 Jul: nothing yet
    clock.set(sh(2025, 7, 10))
    july = assessment.score_unit(svc, find_unit(svc.session, "ga"), assessment.month(2025, 7, SH))
    assert july.orders == 1 and july.on_time_closing == 0.0


def test_unit_with_nothing_gets_full_marks(svc: WorkOrderService) -> None:
    [sw] = [s for s in assessment.score_all(svc, assessment.month(2025, 6, SH)) if s.unit == "sw"]
    assert sw.score == 100.0 and sw.orders == 0


def test_year_runs_december_to_november(svc: WorkOrderService) -> None:
    year = assessment.assessment_year(svc, 2025)
    assert (year.start, year.end) == (sh(2024, 12, 1, 0), sh(2025, 12, 1, 0))
    months = assessment.year_months(svc, 2025)
    assert [m.label for m in months][:2] == ["2024-12", "2025-01"] and len(months) == 12


# 2025's assessment year ends Sun 30 Nov 2025; 7 working days: 1–5 and 8–9 Dec.
APPEALS = [
    (sh(2025, 6, 30), True),
    (sh(2025, 12, 9, 23, 59), True),
    (sh(2025, 12, 10, 0, 1), False),
    (sh(2026, 3, 1), False),
]


@pytest.mark.parametrize(("when", "accepted"), APPEALS)
def test_appeal_window(
    svc: WorkOrderService, clock: FixedClock, when: datetime, accepted: bool
) -> None:
    clock.set(when)
    if accepted:
        appeal = assessment.file_appeal(svc, "ga", 2025, "on_time_closing", "工单 3 已获延期")
        assert appeal.id is not None
    else:
        with pytest.raises(WorkOrderError, match=r"appeal refused.*until 2025-12-09 23:59"):
            assessment.file_appeal(svc, "ga", 2025, "on_time_closing", "工单 3 已获延期")


def test_csv_and_charts(svc: WorkOrderService, clock: FixedClock, tmp_path: Path) -> None:
    june_data(svc, clock)
    text = assessment.to_csv(assessment.score_all(svc, assessment.month(2025, 6, SH)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["unit"] for r in rows] == ["ga", "sw", "zj"]
    assert rows[0]["score"] == "64.58"
    paths = assessment.charts(svc, 2025, tmp_path / "charts")
    assert [p.name for p in paths] == [
        "assessment-2025-ga.png",
        "assessment-2025-sw.png",
        "assessment-2025-zj.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
