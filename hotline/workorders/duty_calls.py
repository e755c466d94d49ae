"""Duty calls: the phone calls that bring an emergency (突发) order to its unit (art. 25.2).

One `duty_call` row per dispatch of an emergency order; one `duty_call_attempt` row
per phone rung (who, when, the outcome); both tables are in workorders/models.py. They
are the duty-call service's queue: whatever was decided is written here before Asterisk
is asked to act, so a restart loses nothing. Signing by key 1 (agi/duty.py) is one
transaction: the order is signed, the attempt and the duty call record it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.kernel.masking import mask_number
from hotline.workorders.duty_plan import SIGNS, Role, Step, escalation_plan, minutes_late
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import (
    DutyCall,
    DutyCallAttempt,
    DutyStatus,
    OrgUnit,
    Outcome,
    WorkOrder,
    WorkOrderStatus,
)
from hotline.workorders.service import WorkOrderService
from hotline.workorders.settings import DutyCallSettings

ACTIVE = (DutyStatus.WAITING, DutyStatus.RINGING)


@dataclass(frozen=True)
class Pending:
    """An attempt to place now (written first, then originated)."""

    attempt_id: int
    order_number: str
    step: Step


def who(role: str, number: str) -> str:
    return f"{role} {mask_number(number)}"


# Picking up dispatched emergency orders -------------------------------------
def pick_up(session: Session, now: datetime, rules: DutyCallSettings) -> list[DutyCall]:
    """A duty call for each emergency order dispatched (again) and not yet being called."""
    since = now - timedelta(hours=rules.pick_up_within_hours)
    orders = session.exec(
        select(WorkOrder).where(
            col(WorkOrder.emergency).is_(True),
            WorkOrder.status == WorkOrderStatus.DISPATCHED,
            col(WorkOrder.dispatched_at) >= since,
            col(WorkOrder.lead_unit_id).is_not(None),
        )
    )
    made: list[DutyCall] = []
    for order in orders:
        assert order.dispatched_at is not None and order.lead_unit_id is not None
        exists = session.exec(
            select(DutyCall.id).where(
                DutyCall.order_id == order.id, DutyCall.dispatched_at == order.dispatched_at
            )
        ).first()
        if exists is not None:
            continue
        call = DutyCall(
            order_id=order.id or 0,
            unit_id=order.lead_unit_id,
            dispatched_at=order.dispatched_at,
            sign_due_at=order.sign_due_at,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(call)
        made.append(call)
    session.flush()
    return made


def active(session: Session) -> list[DutyCall]:
    return list(
        session.exec(
            select(DutyCall).where(col(DutyCall.status).in_(ACTIVE)).order_by(col(DutyCall.id))
        )
    )


def open_attempt(session: Session, call: DutyCall) -> DutyCallAttempt | None:
    return session.exec(
        select(DutyCallAttempt).where(
            DutyCallAttempt.duty_call_id == call.id, DutyCallAttempt.outcome == ""
        )
    ).first()


def attempts(session: Session, call: DutyCall) -> list[DutyCallAttempt]:
    return list(
        session.exec(
            select(DutyCallAttempt)
            .where(DutyCallAttempt.duty_call_id == call.id)
            .order_by(col(DutyCallAttempt.id))
        )
    )


# Following the order -----------------------------------------------------------
def follow_order(session: Session, call: DutyCall, now: datetime) -> bool:
    """Stop calling when the order moved on without us; True if the call is still on.

    Signed in the system (API, CLI) while we were calling: recorded as signed, with
    its lateness, so the duty-call list tells the whole story.
    """
    order = session.get(WorkOrder, call.order_id)
    if order is None:
        call.status = DutyStatus.STOPPED
    elif order.dispatched_at != call.dispatched_at:
        call.status = DutyStatus.STOPPED  # dispatched again: that dispatch has its own
    elif order.signed_at is not None:
        call.status = DutyStatus.SIGNED
        call.signed_at = order.signed_at
        call.signed_by = call.signed_by or "in the system"
        call.minutes_late = minutes_late(call.sign_due_at, order.signed_at)
    elif order.status != WorkOrderStatus.DISPATCHED:
        call.status = DutyStatus.STOPPED
    else:
        return True
    call.updated_at = now
    session.add(call)
    return False


def next_step(
    session: Session, call: DutyCall, now: datetime, rules: DutyCallSettings
) -> Pending | None:
    """Begin the next attempt of the plan (the row is written; the caller commits and
    originates), or mark the call unreached when the plan is spent (returns None)."""
    unit = session.get(OrgUnit, call.unit_id)
    order = session.get(WorkOrder, call.order_id)
    assert order is not None
    plan = escalation_plan(
        unit.duty_phone if unit else "", liaison_phone(unit) if unit else "", rules
    )
    if call.step >= len(plan):
        call.status = DutyStatus.UNREACHED
        call.updated_at = now
        session.add(call)
        return None
    step = plan[call.step]
    attempt = DutyCallAttempt(
        duty_call_id=call.id or 0,
        order_id=call.order_id,
        role=step.role.value,
        number=step.number,
        try_no=step.try_no,
        started_at=now,
    )
    session.add(attempt)
    call.step += 1
    call.status = DutyStatus.RINGING
    call.updated_at = now
    session.add(call)
    session.flush()
    assert attempt.id is not None
    return Pending(attempt.id, order.number, step)


def liaison_phone(unit: OrgUnit) -> str:
    """The liaison's phone; the SMS number (also the liaison's) when none is set."""
    return unit.liaison_phone or unit.sms_number


# Outcomes ---------------------------------------------------------------------------
def answered(session: Session, attempt_id: int, now: datetime) -> None:
    attempt = session.get(DutyCallAttempt, attempt_id)
    if attempt is not None and attempt.answered_at is None:
        attempt.answered_at = now
        session.add(attempt)


def ended(
    session: Session,
    attempt_id: int,
    outcome: Outcome,
    now: datetime,
    rules: DutyCallSettings,
    detail: str = "",
) -> DutyCallAttempt | None:
    """An attempt that did not sign ended: the next one is due after retry_after_seconds.

    Does nothing for an attempt already ended (the signing wrote it first, or a late event).
    """
    attempt = session.get(DutyCallAttempt, attempt_id)
    if attempt is None or attempt.outcome:
        return None
    attempt.outcome = outcome.value
    attempt.ended_at = now
    attempt.detail = detail[:120]
    session.add(attempt)
    call = session.get(DutyCall, attempt.duty_call_id)
    if call is not None and call.status == DutyStatus.RINGING:
        if outcome is Outcome.ACKNOWLEDGED:
            call.status = DutyStatus.ACKNOWLEDGED
        else:
            call.status = DutyStatus.WAITING
            call.next_attempt_at = now + timedelta(seconds=rules.retry_after_seconds)
        call.updated_at = now
        session.add(call)
    return attempt


def overdue_unsigned(session: Session, now: datetime) -> list[DutyCall]:
    """Calls past the 30-minute sign limit, still unsigned, not yet alarmed."""
    return list(
        session.exec(
            select(DutyCall).where(
                col(DutyCall.status).not_in((DutyStatus.SIGNED, DutyStatus.STOPPED)),
                col(DutyCall.overdue_alarm_at).is_(None),
                col(DutyCall.sign_due_at) < now,
            )
        )
    )


@dataclass(frozen=True)
class KeyResult:
    outcome: Outcome
    order_number: str
    minutes_late: int | None


def press_one(session: Session, svc: WorkOrderService, attempt_id: int, now: datetime) -> KeyResult:
    """Key 1 on a duty call: the unit signs (duty phone, liaison), or a supervisor
    acknowledges. One transaction with the order's signing; the caller commits."""
    attempt = session.get(DutyCallAttempt, attempt_id)
    if attempt is None:
        raise WorkOrderError(f"no duty-call attempt {attempt_id}")
    call = session.get(DutyCall, attempt.duty_call_id)
    order = session.get(WorkOrder, attempt.order_id)
    assert call is not None and order is not None
    actor = who(attempt.role, attempt.number)
    attempt.answered_at = attempt.answered_at or now
    attempt.ended_at = now
    if not SIGNS[Role(attempt.role)]:
        attempt.outcome = Outcome.ACKNOWLEDGED
        if call.status in ACTIVE:
            call.status = DutyStatus.ACKNOWLEDGED
        result = KeyResult(Outcome.ACKNOWLEDGED, order.number, None)
    else:
        if order.status == WorkOrderStatus.DISPATCHED and order.dispatched_at == call.dispatched_at:
            svc.sign(order.number, actor)
        elif order.signed_at is None or order.dispatched_at != call.dispatched_at:
            raise WorkOrderError(
                f"work order {order.number} is {order.status}; this duty call is over"
            )
        # signed already (in the system, or a second key press): it stays signed
        attempt.outcome = Outcome.SIGNED
        call.status = DutyStatus.SIGNED
        call.signed_at = order.signed_at
        call.signed_by = call.signed_by if call.signed_by else actor
        call.minutes_late = minutes_late(call.sign_due_at, order.signed_at)
        result = KeyResult(Outcome.SIGNED, order.number, call.minutes_late)
    call.updated_at = now
    session.add(attempt)
    session.add(call)
    session.add(order)
    return result


# Looking at them ------------------------------------------------------------------
def listing(
    session: Session, *, order_id: int | None = None, late: bool = False, limit: int = 100
) -> list[DutyCall]:
    q = select(DutyCall).order_by(col(DutyCall.id).desc()).limit(limit)
    if order_id is not None:
        q = q.where(DutyCall.order_id == order_id)
    if late:
        q = q.where((col(DutyCall.minutes_late) > 0) | col(DutyCall.overdue_alarm_at).is_not(None))
    return list(session.exec(q))


def summary(svc: WorkOrderService, call: DutyCall) -> str:
    """One line for a person: the order, the unit, where it stands, lateness."""
    order = svc.session.get(WorkOrder, call.order_id)
    unit = svc.session.get(OrgUnit, call.unit_id)
    late = ""
    if call.minutes_late:
        late = f" LATE {call.minutes_late} min"
    elif call.signed_at is None and call.overdue_alarm_at is not None:
        late = " NOT SIGNED IN TIME"
    signed = f" signed {svc.local(call.signed_at)} by {call.signed_by}" if call.signed_at else ""
    return (
        f"{order.number if order else call.order_id} {unit.code if unit else call.unit_id} "
        f"dispatched {svc.local(call.dispatched_at)} {call.status}{signed}{late}"
    )


def attempt_line(svc: WorkOrderService, a: DutyCallAttempt) -> str:
    return (
        f"{svc.local(a.started_at)} {a.role:10} {mask_number(a.number):14} try {a.try_no} "
        f"{a.outcome or 'under way'} {a.detail}"
    )
