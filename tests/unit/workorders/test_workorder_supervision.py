"""Satisfaction with its 24-hour default, revisit tasks, and the warning / yellow / red
cards, all on a controlled clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from hotline.workorders import satisfaction, supervision
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import WorkOrder
from hotline.workorders.revisits import record_result
from hotline.workorders.service import WorkOrderService
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, mo: int, d: int, h: int = 10, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


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
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "sms" / "outbox.jsonl"


@pytest.fixture
def svc(session: Session, clock: FixedClock, outbox: Path) -> WorkOrderService:
    return make_service(session, clock, outbox)


def sms(outbox: Path) -> list[dict[str, str]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]


def closed_order(svc: WorkOrderService, contact: str = "13800000001") -> WorkOrder:
    order = svc.create(request_type="help", contact=contact, linkedid="1700000000.1")
    svc.dispatch(order.number, "agent1", "ga")
    svc.sign(order.number, "ga-staff")
    svc.reply(order.number, "ga-staff", "已解决")
    svc.close(order.number, "agent1")
    return order


# --- satisfaction -----------------------------------------------------------------------


def test_closing_sends_the_rating_sms(svc: WorkOrderService, outbox: Path) -> None:
    order = closed_order(svc)
    [message] = sms(outbox)
    assert message["to"] == "13800000001" and message["kind"] == "satisfaction"
    assert order.number in message["text"] and "1 满意" in message["text"]


@pytest.mark.parametrize(
    ("hours", "counted"),
    [(23.99, "satisfied"), (24, "default_satisfied"), (30, "default_satisfied")],
)
def test_no_reply_in_24_hours_counts_satisfied(
    svc: WorkOrderService, clock: FixedClock, hours: float, counted: str
) -> None:
    order = closed_order(svc)
    closed_at = clock()
    clock.advance(hours=hours)
    defaulted = satisfaction.apply_defaults(svc)
    if counted == "default_satisfied":
        assert defaulted == [order]
        assert order.status == "rated" and order.satisfaction == "default_satisfied"
        assert (order.satisfaction_at - closed_at).total_seconds() == 24 * 3600  # type: ignore[operator]
        assert svc.events(order)[-1].actor == "system"
    else:
        assert defaulted == [] and order.status == "closed"
        satisfaction.rate(svc, order.number, "1")
        assert order.satisfaction == "satisfied"


def test_late_reply_is_not_counted(svc: WorkOrderService, clock: FixedClock) -> None:
    order = closed_order(svc)
    clock.advance(hours=25)
    with pytest.raises(WorkOrderError, match="counts as satisfied"):
        satisfaction.rate(svc, order.number, "3")
    assert order.satisfaction == "default_satisfied"


def test_dissatisfied_creates_a_revisit_task_and_the_result_reaches_the_unit(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    order = closed_order(svc, contact="13800000009")
    clock.advance(hours=2)
    rated, task = satisfaction.rate_from_sms(svc, "13800000009", "不满意")
    assert rated is order and order.satisfaction == "dissatisfied"
    assert task is not None
    assert (task.order_id, task.caller_number, task.status) == (order.id, "13800000009", "open")
    record_result(
        svc.session, task, result="reached", note="路灯仍未修好", agent="1001", now=clock()
    )
    assert task.status == "done"
    last = svc.events(order)[-1]
    assert (last.action, last.unit_id, last.reason) == (
        "revisit",
        order.lead_unit_id,
        "reached: 路灯仍未修好",
    )
    svc.reopen(order.number, "supervisor", "回访不满意，重办")
    assert order.status == "dispatched" and order.due_at is not None


def test_unknown_reply_refused(svc: WorkOrderService) -> None:
    order = closed_order(svc)
    with pytest.raises(WorkOrderError, match="allowed: 1 满意"):
        satisfaction.rate(svc, order.number, "好")


# --- supervision --------------------------------------------------------------------------

# Complaint dispatched Mon 9 Jun 2025 10:00: due Mon 23 Jun 23:59:59. Warning 24 h before;
# red after 3 more working days (24, 25, 26 Jun), i.e. from Fri 27 Jun 00:00.
SWEEPS = [
    (sh(2025, 6, 22, 23, 59, 58), []),
    (sh(2025, 6, 23, 9), ["warning"]),
    (sh(2025, 6, 23, 23, 59, 59), []),
    (sh(2025, 6, 24, 0, 0, 0), ["yellow"]),
    (sh(2025, 6, 26, 23, 59, 59), []),
    (sh(2025, 6, 27, 0, 0, 0), ["red"]),
    (sh(2025, 6, 30, 9), []),
]


def test_warning_yellow_red_at_the_right_moments(
    svc: WorkOrderService, clock: FixedClock, outbox: Path
) -> None:
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "ga")
    for when, expected in SWEEPS:
        clock.set(when)
        assert [n.kind for n in supervision.sweep(svc)] == expected, when
    assert [(m["kind"], m["to"]) for m in sms(outbox)] == [
        ("warning", "13700000001"),
        ("yellow", "13700000001"),
        ("red", "13700000001"),
    ]
    [late] = supervision.overdue(svc)
    assert late.order is order and late.unit is not None and late.unit.code == "ga"
    assert late.cards == ("red", "warning", "yellow")
    assert [n.order_id for n in supervision.notices(svc, "red")] == [order.id]


def test_replied_in_time_gets_no_card(svc: WorkOrderService, clock: FixedClock) -> None:
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "ga")
    svc.sign(order.number, "ga-staff")
    clock.set(sh(2025, 6, 23, 12))
    svc.reply(order.number, "ga-staff", "已办结")
    clock.set(sh(2025, 7, 1))
    assert supervision.sweep(svc) == []
    assert supervision.overdue(svc) == []


def test_repeated_yellow_cards_give_a_red_card(svc: WorkOrderService, clock: FixedClock) -> None:
    # Three consultations for the same unit, each overdue by a few hours: the third
    # yellow card of the month is also a red card.
    orders = []
    for _ in range(3):
        order = svc.create(request_type="consultation")
        svc.dispatch(order.number, "agent1", "zj")  # due Wed 11 Jun 23:59:59
        orders.append(order)
    other = svc.create(request_type="consultation")
    svc.dispatch(other.number, "agent1", "sw")
    clock.set(sh(2025, 6, 12, 1))
    kinds = [(n.order_id, n.kind) for n in supervision.sweep(svc)]
    assert kinds == [
        (orders[0].id, "yellow"),
        (orders[1].id, "yellow"),
        (orders[2].id, "yellow"),
        (orders[2].id, "red"),
        (other.id, "yellow"),
    ]
    assert supervision.sweep(svc) == []  # idempotent


def test_extension_approved_in_time_postpones_the_cards(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "ga")
    req = svc.request_extension(order.number, "ga-staff", 5, "等待检测")
    svc.decide_extension(req.id or 0, "supervisor", approve=True)  # due Mon 30 Jun
    clock.set(sh(2025, 6, 24, 9))
    assert supervision.sweep(svc) == []
    clock.set(sh(2025, 7, 1, 0, 0, 1))
    assert [n.kind for n in supervision.sweep(svc)] == ["yellow"]
