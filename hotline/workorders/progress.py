"""What a caller may hear about their own orders (工单进度查询), for the IVR and the API.

An order is shown only to the number it was filed from, or to whoever gives its query
code (查询码, printed on the acceptance SMS): art. 22 keeps others' requests private.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hotline.workorders.deadlines import RequestType
from hotline.workorders.models import OrgUnit, WorkOrder, WorkOrderStatus

S = WorkOrderStatus

# What the citizen hears for each state.
STATUS_ZH: dict[str, str] = {
    S.DRAFT: "已受理，等待派发",
    S.ACCEPTED: "已受理，等待派发",
    S.DISPATCHED: "已派发，正在办理",
    S.SIGNED: "承办单位已签收，正在办理",
    S.RETURNED: "正在重新派发",
    S.COORDINATING: "正在协调承办单位",
    S.REPLIED: "承办单位已答复，等待办结",
    S.CLOSED: "已办结",
    S.RATED: "已办结",
    S.ARCHIVED: "已办结",
}

FINISHED: frozenset[str] = frozenset({S.CLOSED, S.RATED, S.ARCHIVED})


@dataclass(frozen=True)
class OrderProgress:
    number: str  # YYYYMMDD-NNNNNN
    status: str  # machine name, e.g. "dispatched"
    status_zh: str  # what the citizen hears, e.g. "已派发，正在办理"
    unit_name: str | None  # lead handling unit, None before dispatch
    due_at: datetime | None  # aware UTC
    request_type: RequestType


def progress_of(session: Session, order: WorkOrder) -> OrderProgress:
    unit = session.get(OrgUnit, order.lead_unit_id) if order.lead_unit_id is not None else None
    return OrderProgress(
        number=order.number,
        status=order.status,
        status_zh=STATUS_ZH.get(order.status, "正在办理"),
        unit_name=unit.name if unit is not None else None,
        due_at=order.due_at,
        request_type=RequestType(order.request_type),
    )


def open_orders_for_caller(session: Session, caller_number: str) -> list[OrderProgress]:
    """The caller's unfinished orders, newest first."""
    if not caller_number:
        return []
    rows = session.exec(
        select(WorkOrder)
        .where(WorkOrder.caller_number == caller_number)
        .where(col(WorkOrder.status).not_in(FINISHED))
        .order_by(col(WorkOrder.accepted_at).desc(), col(WorkOrder.id).desc())
    ).all()
    return [progress_of(session, o) for o in rows]


def find_order_for_caller(
    session: Session, number: str, caller_number: str, query_code: str | None = None
) -> OrderProgress | None:
    """The order `number`, if filed from `caller_number` or if `query_code` matches."""
    order = session.exec(select(WorkOrder).where(WorkOrder.number == number)).first()
    if order is None:
        return None
    if caller_number and order.caller_number == caller_number:
        return progress_of(session, order)
    if query_code and order.query_code and hmac.compare_digest(query_code, order.query_code):
        return progress_of(session, order)
    return None
