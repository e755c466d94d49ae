"""Revisit tasks (人工回访, art. 27.3): an agent calls a citizen back.

Created when a citizen is dissatisfied (satisfaction.py) or asks for a call back from
the IVR; placed as an outbound call by workorders/revisit_call.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from workorders.models import RevisitTask, WorkOrder, WorkOrderCall


def order_for_call(session: Session, linkedid: str) -> WorkOrder | None:
    """The work order a call belongs to, if any."""
    if not linkedid:
        return None
    order = session.exec(select(WorkOrder).where(WorkOrder.linkedid == linkedid)).first()
    if order is not None:
        return order
    link = session.exec(select(WorkOrderCall).where(WorkOrderCall.linkedid == linkedid)).first()
    return session.get(WorkOrder, link.order_id) if link is not None else None


def create_revisit_task(
    session: Session,
    *,
    linkedid: str,
    caller_number: str,
    reason: str,
    order_id: int | None = None,
    now: datetime | None = None,
) -> RevisitTask:
    """A new open revisit task (the caller commits). Linked to the call's order if any."""
    if order_id is None:
        order = order_for_call(session, linkedid)
        order_id = order.id if order is not None else None
    task = RevisitTask(
        order_id=order_id,
        linkedid=linkedid,
        caller_number=caller_number,
        reason=reason,
        created_at=(now or datetime.now(UTC)).astimezone(UTC),
    )
    session.add(task)
    return task


def open_tasks(session: Session) -> list[RevisitTask]:
    return list(
        session.exec(
            select(RevisitTask)
            .where(col(RevisitTask.status).in_(("open", "failed")))
            .order_by(col(RevisitTask.created_at))
        )
    )
