"""Revisit tasks (人工回访, art. 27.3): an agent calls a citizen back.

Created when a citizen is dissatisfied (satisfaction.py) or asks for a call back from
the IVR; placed as an outbound call by workorders/revisit_call.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from hotline.workorders.models import RevisitTask, WorkOrder, WorkOrderCall, WorkOrderEvent


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


RESULTS = ("reached", "no_answer", "busy", "failed")


def record_result(
    session: Session,
    task: RevisitTask,
    *,
    result: str,
    note: str = "",
    agent: str = "",
    call_linkedid: str = "",
    now: datetime | None = None,
) -> RevisitTask:
    """Store the outcome of the revisit call; the order's audit trail carries it to the
    lead unit (反馈承办单位). Not reached: the task stays open for another try."""
    if result not in RESULTS:
        raise ValueError(f"revisit result {result!r} unknown; allowed: {', '.join(RESULTS)}")
    at = (now or datetime.now(UTC)).astimezone(UTC)
    task.result = result
    task.note = note
    task.agent = agent or task.agent
    task.call_linkedid = call_linkedid or task.call_linkedid
    task.status = "done" if result == "reached" else "failed"
    task.completed_at = at if result == "reached" else None
    session.add(task)
    order = session.get(WorkOrder, task.order_id) if task.order_id else None
    if order is not None:
        if call_linkedid:
            exists = session.exec(
                select(WorkOrderCall).where(
                    WorkOrderCall.order_id == order.id, WorkOrderCall.linkedid == call_linkedid
                )
            ).first()
            if exists is None:
                session.add(
                    WorkOrderCall(order_id=order.id or 0, linkedid=call_linkedid, role="revisit")
                )
        session.add(
            WorkOrderEvent(
                order_id=order.id or 0,
                at=at,
                actor=agent or "hotline",
                action="revisit",
                from_status=order.status,
                to_status=order.status,
                unit_id=order.lead_unit_id,
                reason=f"{result}: {note}" if note else result,
            )
        )
    return task
