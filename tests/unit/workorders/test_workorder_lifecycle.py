"""The work-order lifecycle: every transition, every deadline rule (art. 25.2, 26).

Expected dates are worked out by hand on the statutory calendar (chinesecalendar):
- 2025 National Day: Wed 1 – Wed 8 Oct off; make-up Sun 28 Sep and Sat 11 Oct.
- 2025 New Year 2026: Thu 1, Fri 2 Jan off; make-up Sun 4 Jan.
- 2026 Spring Festival: Sun 15 – Mon 23 Feb off; make-up Sat 14 Feb and Sat 28 Feb.
- June 2025 after Mon 2 Jun (Dragon Boat): plain Monday–Friday weeks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from hotline.workorders.errors import InvalidTransition, WorkOrderError
from hotline.workorders.lifecycle import Action, transition
from hotline.workorders.models import WorkOrder, WorkOrderEvent, WorkOrderStatus
from hotline.workorders.service import WorkOrderService
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")
S = WorkOrderStatus
A = Action


def sh(y: int, mo: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def eod(y: int, mo: int, d: int) -> datetime:
    return datetime(y, mo, d, 23, 59, 59, tzinfo=SH)


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
    return FixedClock(sh(2025, 6, 9, 9))


@pytest.fixture
def svc(session: Session, clock: FixedClock, tmp_path: Path) -> WorkOrderService:
    return make_service(session, clock, tmp_path / "sms.jsonl")


# --- the state machine --------------------------------------------------------------

# The allowed moves, written out from art. 24–28 (the spec this table is checked against).
ALLOWED = {
    (S.DRAFT, A.ACCEPT): S.ACCEPTED,
    (S.DRAFT, A.ANSWER): S.CLOSED,
    (S.DRAFT, A.DISPATCH): S.DISPATCHED,
    (S.ACCEPTED, A.ANSWER): S.CLOSED,
    (S.ACCEPTED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.SIGN): S.SIGNED,
    (S.SIGNED, A.RETURN): S.RETURNED,
    (S.SIGNED, A.REPLY): S.REPLIED,
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
    (S.RETURNED, A.DISPUTE): S.COORDINATING,
    (S.RETURNED, A.ANSWER): S.CLOSED,
    (S.COORDINATING, A.DISPATCH): S.DISPATCHED,
    (S.REPLIED, A.CLOSE): S.CLOSED,
    (S.REPLIED, A.REJECT_REPLY): S.SIGNED,
    (S.CLOSED, A.RATE): S.RATED,
    (S.RATED, A.REOPEN): S.DISPATCHED,
    (S.RATED, A.ARCHIVE): S.ARCHIVED,
}
ALL_PAIRS = [(s, a) for s in S for a in A]


def order_in(session: Session, state: S) -> WorkOrder:
    order = WorkOrder(
        number=f"T-{state.value}",
        status=state.value,
        request_type="complaint",
        accepted_at=sh(2025, 6, 9),
    )
    session.add(order)
    session.flush()
    return order


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_transition(session: Session, state: S, action: A) -> None:
    order = order_in(session, state)
    at = sh(2025, 6, 9, 11)
    if (state, action) in ALLOWED:
        event = transition(session, order, action, actor="tester", at=at, reason="why")
        assert order.status == ALLOWED[state, action]
        assert (event.from_status, event.to_status, event.actor, event.reason) == (
            state.value,
            ALLOWED[state, action].value,
            "tester",
            "why",
        )
        assert event.at == at
    else:
        with pytest.raises(InvalidTransition) as info:
            transition(session, order, action, actor="tester", at=at)
        message = str(info.value)
        assert f"is {state.value}: cannot {action.value}" in message
        allowed = [a.value for (s, a) in ALLOWED if s is state]
        listed = ", ".join(allowed) if allowed else "nothing (final state)"
        assert message.endswith(f"allowed from {state.value}: {listed}")
        assert order.status == state.value
        assert session.exec(select(WorkOrderEvent)).all() == []


def test_full_path_leaves_an_audit_trail(svc: WorkOrderService, clock: FixedClock) -> None:
    order = svc.create(request_type="complaint", content="噪音扰民", caller_number="13800000001")
    svc.dispatch(order.number, "agent1", "ga", assisting=["zj"])
    clock.advance(hours=1)
    svc.sign(order.number, "ga-staff")
    svc.assist_reply(order.number, "zj", "zj-staff", "已配合现场检查")
    clock.advance(hours=2)
    svc.reply(order.number, "ga-staff", "已处理，噪音源已关停")
    svc.close(order.number, "agent1")
    trail = [(e.action, e.from_status, e.to_status, e.actor) for e in svc.events(order)]
    assert trail == [
        ("create", "", "accepted", "hotline"),
        ("dispatch", "accepted", "dispatched", "agent1"),
        ("sign", "dispatched", "signed", "ga-staff"),
        ("assist_reply", "signed", "signed", "zj-staff"),
        ("reply", "signed", "replied", "ga-staff"),
        ("close", "replied", "closed", "agent1"),
    ]
    times = [e.at for e in svc.events(order)]
    assert times == sorted(times) and times[-1] == clock()
    assert order.status == "closed" and order.closed_at == clock()


def test_forbidden_step_through_the_service_is_refused(svc: WorkOrderService) -> None:
    order = svc.create(request_type="help")
    with pytest.raises(InvalidTransition, match="is accepted: cannot sign; allowed from accepted"):
        svc.sign(order.number, "ga-staff")


def test_disputed_order_goes_to_the_coordination_list(svc: WorkOrderService) -> None:
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "zj")
    svc.sign(order.number, "zj-staff")
    svc.return_order(order.number, "zj-staff", "属水务局职责")
    svc.dispute(order.number, "agent1", "住建与水务均称非本单位职责")
    assert [o.number for o in svc.coordination_list()] == [order.number]
    svc.dispatch(order.number, "coordinator", "sw", reason="协调会议定由水务局主办")
    assert svc.coordination_list() == []
    assert svc.unit_of(order) is not None and svc.unit_of(order).code == "sw"  # type: ignore[union-attr]


def test_return_needs_a_reason(svc: WorkOrderService) -> None:
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "zj")
    svc.sign(order.number, "zj-staff")
    with pytest.raises(WorkOrderError, match="reason for the return is required"):
        svc.return_order(order.number, "zj-staff", "  ")


# --- deadlines (art. 26.2) ------------------------------------------------------------

DEADLINES = [
    # id, request type, emergency, channel, special-law days, dispatched, close due, sign due
    ("national-day-consultation", "consultation", False, "phone", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 10), eod(2025, 10, 9)),
    ("national-day-help-makeup-saturday", "help", False, "phone", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 11), eod(2025, 10, 9)),
    ("national-day-suggestion", "suggestion", False, "phone", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 14), eod(2025, 10, 9)),
    ("national-day-complaint", "complaint", False, "phone", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 21), eod(2025, 10, 9)),
    ("national-day-report", "report", False, "website", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 21), eod(2025, 10, 9)),
    ("national-day-praise", "praise", False, "phone", None,
     sh(2025, 9, 30, 15), None, eod(2025, 10, 9)),
    ("national-day-chairman-mailbox", "complaint", False, "chairman_mailbox", None,
     sh(2025, 9, 30, 15), eod(2025, 10, 11), eod(2025, 10, 9)),
    ("weekend-before-makeup-sunday", "consultation", False, "phone", None,
     sh(2025, 9, 27, 11), eod(2025, 9, 29), eod(2025, 9, 28)),
    ("spring-festival-consultation", "consultation", False, "wechat", None,
     sh(2026, 2, 13, 16), eod(2026, 2, 24), eod(2026, 2, 14)),
    ("spring-festival-complaint", "complaint", False, "app", None,
     sh(2026, 2, 13, 16), eod(2026, 3, 5), eod(2026, 2, 14)),
    ("spring-festival-special-law-15", "complaint", False, "phone", 15,
     sh(2026, 2, 13, 16), eod(2026, 3, 12), eod(2026, 2, 14)),
    ("spring-festival-special-law-beats-mailbox", "help", False, "chairman_mailbox", 1,
     sh(2026, 2, 13, 16), eod(2026, 2, 14), eod(2026, 2, 14)),
    ("new-year-help", "help", False, "gov_platform", None,
     sh(2025, 12, 31, 14), eod(2026, 1, 6), eod(2026, 1, 4)),
    ("emergency-across-national-day", "complaint", True, "phone", None,
     sh(2025, 9, 30, 23, 50), sh(2025, 10, 1, 23, 50), sh(2025, 10, 1, 0, 20)),
    ("emergency-special-law-wins", "help", True, "phone", 2,
     sh(2025, 9, 30, 15), eod(2025, 10, 10), sh(2025, 9, 30, 15, 30)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rtype", "emergency", "channel", "law_days", "dispatched", "close_due", "sign_due"),
    [c[1:] for c in DEADLINES],
    ids=[c[0] for c in DEADLINES],
)
def test_deadlines(
    svc: WorkOrderService,
    clock: FixedClock,
    rtype: str,
    emergency: bool,
    channel: str,
    law_days: int | None,
    dispatched: datetime,
    close_due: datetime | None,
    sign_due: datetime,
) -> None:
    clock.set(dispatched)
    order = svc.create(request_type=rtype, channel=channel, emergency=emergency)
    svc.dispatch(
        order.number,
        "agent1",
        "ga",
        special_law_days=law_days,
        special_law_ref="《某条例》第十条" if law_days else "",
    )
    assert order.due_at == close_due
    assert order.sign_due_at == sign_due
    assert order.dispatched_at == dispatched
    if close_due is not None and not emergency:
        assert order.due_date == close_due.date()


def test_emergency_dispatch_says_phone_the_unit(svc: WorkOrderService) -> None:
    order = svc.create(request_type="help", emergency=True)
    svc.dispatch(order.number, "agent1", "ga")
    assert "phone 市公安局 at once on 0771-110" in svc.events(order)[-1].reason


def test_dispatch_after_24_hours_is_marked_late(svc: WorkOrderService, clock: FixedClock) -> None:
    on_time = svc.create(request_type="help")
    late = svc.create(request_type="help")
    clock.advance(hours=23, minutes=59)
    svc.dispatch(on_time.number, "agent1", "ga")
    clock.advance(minutes=2)
    svc.dispatch(late.number, "agent1", "ga")
    assert "late dispatch" not in svc.events(on_time)[-1].reason
    assert (
        "late dispatch: accepted 2025-06-09 09:00, due within 24 h" in svc.events(late)[-1].reason
    )


def test_special_law_needs_its_reference(svc: WorkOrderService) -> None:
    order = svc.create(request_type="complaint")
    with pytest.raises(WorkOrderError, match="needs the law"):
        svc.dispatch(order.number, "agent1", "ga", special_law_days=15)


# --- returns (art. 26.3) -----------------------------------------------------------------

RETURNS = [
    # id, emergency, signed at, returned at, allowed
    ("before-national-day-last-evening", False, sh(2025, 9, 30, 10), sh(2025, 10, 9, 23, 0), True),
    ("before-national-day-during-holiday", False, sh(2025, 9, 30, 10), sh(2025, 10, 5), True),
    ("before-national-day-too-late", False, sh(2025, 9, 30, 10), sh(2025, 10, 10, 8), False),
    ("friday-before-makeup-saturday", False, sh(2026, 2, 13, 10), sh(2026, 2, 14, 20), True),
    ("friday-before-makeup-late", False, sh(2026, 2, 13, 10), sh(2026, 2, 15, 9), False),
    ("on-makeup-saturday", False, sh(2026, 2, 14, 10), sh(2026, 2, 24, 18), True),
    ("on-makeup-saturday-late", False, sh(2026, 2, 14, 10), sh(2026, 2, 25, 0, 1), False),
    ("plain-week-next-day", False, sh(2025, 6, 12, 17), sh(2025, 6, 13, 23, 0), True),
    ("plain-week-over-weekend", False, sh(2025, 6, 13, 17), sh(2025, 6, 16, 9), True),
    ("plain-week-too-late", False, sh(2025, 6, 13, 17), sh(2025, 6, 17, 9), False),
    ("emergency-29-minutes", True, sh(2025, 6, 13, 10), sh(2025, 6, 13, 10, 29), True),
    ("emergency-31-minutes", True, sh(2025, 6, 13, 10), sh(2025, 6, 13, 10, 31), False),
]


@pytest.mark.parametrize(
    ("emergency", "signed", "returned", "allowed"),
    [c[1:] for c in RETURNS],
    ids=[c[0] for c in RETURNS],
)
def test_return_window(
    svc: WorkOrderService,
    clock: FixedClock,
    emergency: bool,
    signed: datetime,
    returned: datetime,
    allowed: bool,
) -> None:
    clock.set(signed)
    order = svc.create(request_type="complaint", emergency=emergency)
    svc.dispatch(order.number, "agent1", "zj")
    svc.sign(order.number, "zj-staff")
    clock.set(returned)
    if allowed:
        svc.return_order(order.number, "zj-staff", "不属本单位职责")
        assert order.status == "returned"
        assert svc.events(order)[-1].reason == "不属本单位职责"
    else:
        with pytest.raises(WorkOrderError, match="late return refused"):
            svc.return_order(order.number, "zj-staff", "不属本单位职责")
        assert order.status == "signed"


# --- extensions (art. 26.2.9) ----------------------------------------------------------


def dispatched_complaint(svc: WorkOrderService) -> WorkOrder:
    # Mon 9 Jun 2025: 10 working days → Mon 23 Jun.
    order = svc.create(request_type="complaint")
    svc.dispatch(order.number, "agent1", "ga")
    assert order.due_at == eod(2025, 6, 23)
    return order


def test_extension_approved_moves_the_deadline(svc: WorkOrderService) -> None:
    order = dispatched_complaint(svc)
    req = svc.request_extension(order.number, "ga-staff", 10, "需现场勘验")
    assert order.due_at == eod(2025, 6, 23)  # not before approval
    svc.decide_extension(req.id or 0, "supervisor", approve=True)
    # 24, 25, 26, 27, 30 Jun, 1, 2, 3, 4, 7 Jul
    assert order.due_at == eod(2025, 7, 7)
    assert order.due_working_days == 20
    assert [e.action for e in svc.events(order)][-2:] == [
        "extension_requested",
        "extension_approved",
    ]


def test_extension_refused_keeps_the_deadline(svc: WorkOrderService) -> None:
    order = dispatched_complaint(svc)
    req = svc.request_extension(order.number, "ga-staff", 3, "等待检测报告")
    svc.decide_extension(req.id or 0, "supervisor", approve=False)
    assert order.due_at == eod(2025, 6, 23) and req.status == "refused"
    with pytest.raises(WorkOrderError, match="already refused"):
        svc.decide_extension(req.id or 0, "supervisor", approve=True)


@pytest.mark.parametrize(
    ("requests", "refused_at"),
    [
        ([11], 0),  # more than the original 10 at once
        ([6, 5], 1),  # pending requests count too
        ([10, 1], 1),
        ([4, 3, 3], None),  # exactly double in all: allowed
    ],
)
def test_extension_beyond_double_refused(
    svc: WorkOrderService, requests: list[int], refused_at: int | None
) -> None:
    order = dispatched_complaint(svc)
    for i, days in enumerate(requests):
        if i == refused_at:
            with pytest.raises(WorkOrderError, match="beyond the original 10 \\(at most 10"):
                svc.request_extension(order.number, "ga-staff", days, "理由")
        else:
            svc.request_extension(order.number, "ga-staff", days, "理由")


def test_extension_beyond_double_after_approval(svc: WorkOrderService) -> None:
    order = svc.create(request_type="consultation")  # 2 days: at most 2 more
    svc.dispatch(order.number, "agent1", "ga")
    req = svc.request_extension(order.number, "ga-staff", 2, "理由")
    svc.decide_extension(req.id or 0, "supervisor", approve=True)
    with pytest.raises(WorkOrderError, match="3 in all"):
        svc.request_extension(order.number, "ga-staff", 1, "理由")


def test_extension_after_the_deadline_refused(svc: WorkOrderService, clock: FixedClock) -> None:
    order = dispatched_complaint(svc)
    clock.set(sh(2025, 6, 24, 0, 0))
    with pytest.raises(WorkOrderError, match="must be asked for before the deadline"):
        svc.request_extension(order.number, "ga-staff", 2, "来不及")


def test_no_extension_for_emergency(svc: WorkOrderService) -> None:
    order = svc.create(request_type="help", emergency=True)
    svc.dispatch(order.number, "agent1", "ga")
    with pytest.raises(WorkOrderError, match="emergency"):
        svc.request_extension(order.number, "ga-staff", 1, "理由")


def test_times_are_stored_in_utc(svc: WorkOrderService, session: Session) -> None:
    order = svc.create(request_type="help")
    svc.dispatch(order.number, "agent1", "ga")
    session.commit()
    session.expire_all()
    again = svc.get(order.number)
    assert again.due_at == eod(2025, 6, 12) and again.due_at is not None
    assert again.due_at.tzinfo is UTC
    assert again.due_date == date(2025, 6, 12)
