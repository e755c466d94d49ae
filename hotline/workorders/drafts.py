"""Draft work orders from answered calls, with their statutory due date (art. 26)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.deadlines import RequestType, due_date, due_datetime, handling_days
from hotline.workorders.models import WorkOrder, WorkOrderCall, WorkOrderEvent, WorkOrderStatus


def next_number(session: Session, tenant_prefix: str, when: datetime, tz: ZoneInfo) -> str:
    """Order numbers read like 20261124-000123: local date, then a daily sequence."""
    day = when.astimezone(tz).strftime("%Y%m%d")
    prefix = f"{tenant_prefix}{day}-"
    count = session.exec(
        select(func.count()).select_from(WorkOrder).where(WorkOrder.number.startswith(prefix))
    ).one()
    return f"{prefix}{count + 1:06d}"


def new_query_code() -> str:
    """Six random digits the citizen can key in to look up the order (查询码)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def draft_from_call(
    session: Session,
    *,
    linkedid: str,
    request_type: str,
    caller_number: str,
    agent: str,
    emergency: bool,
    accepted_at: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    tenant_prefix: str = "",
) -> WorkOrder | None:
    """Create (once per call) the draft order of an answered call with a request type."""
    try:
        rtype = RequestType(request_type)
    except ValueError:
        return None
    existing = session.exec(select(WorkOrder).where(WorkOrder.linkedid == linkedid)).first()
    if existing is not None:
        return existing
    aware = accepted_at if accepted_at.tzinfo else accepted_at.replace(tzinfo=UTC)
    # The draft is dispatched as it is accepted; the agent may re-dispatch later.
    order = WorkOrder(
        number=next_number(session, tenant_prefix, aware, tz),
        request_type=rtype.value,
        emergency=emergency,
        caller_number=caller_number,
        linkedid=linkedid,
        agent=agent,
        accepted_at=aware.astimezone(UTC),
        due_date=due_date(rtype, aware, calendar, tz),
        due_working_days=handling_days(rtype),
        query_code=new_query_code(),
    )
    due = due_datetime(rtype, aware, calendar, tz)
    order.due_at = due.astimezone(UTC) if due is not None else None
    session.add(order)
    return order


def mark_orders_emergency(session: Session, linkedid: str) -> list[WorkOrder]:
    """An emergency line was brought into the call: its orders not yet dispatched become
    突发 (the dispatch then sets the emergency time limits; a dispatched one is left as is)."""
    linked = select(WorkOrderCall.order_id).where(WorkOrderCall.linkedid == linkedid)
    orders = session.exec(
        select(WorkOrder).where(
            (WorkOrder.linkedid == linkedid) | (WorkOrder.id.in_(linked))  # type: ignore[union-attr]
        )
    ).all()
    marked = []
    for order in orders:
        if order.emergency or order.status not in (WorkOrderStatus.DRAFT, WorkOrderStatus.ACCEPTED):
            continue
        order.emergency = True
        session.add(order)
        session.add(
            WorkOrderEvent(
                order_id=order.id or 0,
                at=datetime.now(UTC),
                actor="hotline",
                action="emergency",
                from_status=order.status,
                to_status=order.status,
                reason=f"emergency line brought into call {linkedid}",
            )
        )
        marked.append(order)
    return marked


def call_was_emergency(session: Session, linkedid: str) -> bool:
    """Whether the stored call brought in an emergency line (or the IVR transferred it)."""
    record = session.exec(select(CallRecord).where(CallRecord.linkedid == linkedid)).first()
    return bool(record and record.emergency)
