"""The work-order state machine (art. 24–28) and its audit trail.

Every transition is one row of WorkOrderEvent: who, when, from, to, why. A move the
table does not allow raises InvalidTransition naming the state and the allowed moves.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from sqlmodel import Session

from hotline.workorders.errors import InvalidTransition
from hotline.workorders.models import WorkOrder, WorkOrderEvent, WorkOrderStatus

S = WorkOrderStatus


class Action(StrEnum):
    ACCEPT = "accept"  # 受理: the agent completes the draft
    ANSWER = "answer"  # 直接解答: the hotline answers and closes without dispatch
    DISPATCH = "dispatch"  # 派单 (also re-dispatch after a return or a dispute)
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退单, with a reason
    DISPUTE = "dispute"  # 争议: to the coordination list (art. 19)
    REPLY = "reply"  # 答复 by the lead unit
    REJECT_REPLY = "reject_reply"  # the hotline sends the reply back to the unit
    CLOSE = "close"  # 办结: satisfaction SMS goes out
    RATE = "rate"  # 评价 (or its 24-hour default)
    REOPEN = "reopen"  # 重办 after a dissatisfied rating, reviewed by the hotline
    ARCHIVE = "archive"  # 归档


# (state, action) -> next state. Anything not listed is refused.
TRANSITIONS: MappingProxyType[tuple[S, Action], S] = MappingProxyType(
    {
        (S.DRAFT, Action.ACCEPT): S.ACCEPTED,
        (S.DRAFT, Action.ANSWER): S.CLOSED,
        (S.DRAFT, Action.DISPATCH): S.DISPATCHED,
        (S.ACCEPTED, Action.ANSWER): S.CLOSED,
        (S.ACCEPTED, Action.DISPATCH): S.DISPATCHED,
        (S.DISPATCHED, Action.SIGN): S.SIGNED,
        (S.SIGNED, Action.RETURN): S.RETURNED,
        (S.SIGNED, Action.REPLY): S.REPLIED,
        (S.RETURNED, Action.DISPATCH): S.DISPATCHED,
        (S.RETURNED, Action.DISPUTE): S.COORDINATING,
        (S.RETURNED, Action.ANSWER): S.CLOSED,
        (S.COORDINATING, Action.DISPATCH): S.DISPATCHED,
        (S.REPLIED, Action.CLOSE): S.CLOSED,
        (S.REPLIED, Action.REJECT_REPLY): S.SIGNED,
        (S.CLOSED, Action.RATE): S.RATED,
        (S.RATED, Action.REOPEN): S.DISPATCHED,
        (S.RATED, Action.ARCHIVE): S.ARCHIVED,
    }
)


def allowed_actions(state: S) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s is state]


def next_state(order: WorkOrder, action: Action) -> S:
    state = S(order.status)
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise InvalidTransition(order.number, state, action, allowed_actions(state))
    return target


def transition(
    session: Session,
    order: WorkOrder,
    action: Action,
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    unit_id: int | None = None,
) -> WorkOrderEvent:
    """Move `order` by `action` and write the audit row (the caller commits)."""
    target = next_state(order, action)
    assert order.id is not None, "flush the order before its first transition"
    event = WorkOrderEvent(
        order_id=order.id,
        at=at,
        actor=actor,
        action=action.value,
        from_status=order.status,
        to_status=target.value,
        unit_id=unit_id,
        reason=reason,
    )
    order.status = target.value
    session.add(order)
    session.add(event)
    return event


def record(
    session: Session,
    order: WorkOrder,
    action: str,
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    unit_id: int | None = None,
) -> WorkOrderEvent:
    """An audit row for something that keeps the state (extension, assist reply, …)."""
    assert order.id is not None
    event = WorkOrderEvent(
        order_id=order.id,
        at=at,
        actor=actor,
        action=action,
        from_status=order.status,
        to_status=order.status,
        unit_id=unit_id,
        reason=reason,
    )
    session.add(event)
    return event
