"""Satisfaction (满意度, art. 27.2–27.3): the citizen's SMS reply, the 24-hour default,
and a revisit task when the citizen is dissatisfied."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from hotline.workorders.errors import WorkOrderError
from hotline.workorders.lifecycle import Action, transition
from hotline.workorders.models import RevisitTask, Satisfaction, WorkOrder, WorkOrderStatus
from hotline.workorders.revisits import create_revisit_task
from hotline.workorders.service import WorkOrderService

# What the citizen may text back.
REPLIES: dict[str, Satisfaction] = {
    "1": Satisfaction.SATISFIED,
    "满意": Satisfaction.SATISFIED,
    "2": Satisfaction.BASICALLY,
    "基本满意": Satisfaction.BASICALLY,
    "3": Satisfaction.DISSATISFIED,
    "不满意": Satisfaction.DISSATISFIED,
}


def parse_reply(text: str) -> Satisfaction:
    key = text.strip()
    if key not in REPLIES:
        raise WorkOrderError(
            f"reply {text!r} not understood; allowed: 1 满意, 2 基本满意, 3 不满意"
        )
    return REPLIES[key]


def rate(
    svc: WorkOrderService, number: str, reply: str, actor: str = "citizen"
) -> tuple[WorkOrder, RevisitTask | None]:
    """Record the citizen's rating; past the time limit the default (satisfied) stands."""
    order = svc.get(number)
    result = parse_reply(reply)
    now = svc.now()
    if order.status == WorkOrderStatus.CLOSED and _expired(svc, order):
        _default(svc, order)
        raise WorkOrderError(
            f"work order {number}: no reply within {svc.rules.satisfaction_timeout_hours:g} h, "
            "so it counts as satisfied (art. 27.2); the late reply is not counted"
        )
    transition(svc.session, order, Action.RATE, actor=actor, at=now, reason=result.value)
    order.satisfaction = result.value
    order.satisfaction_at = now
    task = None
    if result is Satisfaction.DISSATISFIED:
        task = create_revisit_task(
            svc.session,
            linkedid=order.linkedid,
            caller_number=order.contact or order.caller_number,
            reason=f"工单 {order.number} 诉求人不满意",
            order_id=order.id,
            now=now,
        )
        svc.session.flush()
    return order, task


def rate_from_sms(
    svc: WorkOrderService, from_number: str, reply: str
) -> tuple[WorkOrder, RevisitTask | None]:
    """An SMS reply: it rates the sender's latest order waiting for a rating."""
    order = svc.session.exec(
        select(WorkOrder)
        .where(WorkOrder.status == WorkOrderStatus.CLOSED)
        .where((WorkOrder.contact == from_number) | (WorkOrder.caller_number == from_number))
        .order_by(col(WorkOrder.closed_at).desc())
    ).first()
    if order is None:
        raise WorkOrderError("no closed work order waits for a rating from this number")
    return rate(svc, order.number, reply)


def apply_defaults(svc: WorkOrderService) -> list[WorkOrder]:
    """Orders closed more than 24 h ago without a reply count as satisfied."""
    waiting = svc.session.exec(
        select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.CLOSED)
    ).all()
    done = [o for o in waiting if _expired(svc, o)]
    for order in done:
        _default(svc, order)
    return done


def _expired(svc: WorkOrderService, order: WorkOrder) -> bool:
    asked = order.satisfaction_asked_at or order.closed_at
    if asked is None:
        return False
    return svc.now() >= asked + timedelta(hours=svc.rules.satisfaction_timeout_hours)


def _default(svc: WorkOrderService, order: WorkOrder) -> None:
    asked = order.satisfaction_asked_at or order.closed_at
    assert asked is not None
    at = asked + timedelta(hours=svc.rules.satisfaction_timeout_hours)
    transition(
        svc.session,
        order,
        Action.RATE,
        actor="system",
        at=svc.now(),
        reason=f"no reply within {svc.rules.satisfaction_timeout_hours:g} h: default satisfied",
    )
    order.satisfaction = Satisfaction.DEFAULT_SATISFIED.value
    order.satisfaction_at = at
