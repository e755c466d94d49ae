"""Supervision (督办, art. 27.1, 34): SMS warning before a deadline, yellow card when
overdue, red card when overdue beyond a margin or for a unit's repeated yellow cards.

`sweep` is idempotent (one notice per order and kind); run it periodically
(`hotline orders sweep`) or let the API run it before listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from hotline.workorders.models import OrgUnit, SupervisionNotice, WorkOrder, WorkOrderStatus
from hotline.workorders.service import WorkOrderService
from hotline.workorders.sms import SmsMessage

S = WorkOrderStatus
# The unit holds the order: its clock runs.
WITH_UNIT = (S.DISPATCHED, S.SIGNED)

CARD_ZH = {"warning": "短信预警", "yellow": "黄牌警告", "red": "红牌警告"}


@dataclass(frozen=True)
class Overdue:
    order: WorkOrder
    unit: OrgUnit | None
    due_at: datetime
    overdue_hours: float
    cards: tuple[str, ...]  # kinds already issued, e.g. ("warning", "yellow")


def sweep(svc: WorkOrderService) -> list[SupervisionNotice]:
    """Issue the warnings and cards due now; returns the new notices."""
    now = svc.now()
    sup = svc.rules.supervision
    issued: list[SupervisionNotice] = []
    orders = svc.session.exec(
        select(WorkOrder)
        .where(col(WorkOrder.status).in_(WITH_UNIT))
        .where(col(WorkOrder.due_at).is_not(None))
        .order_by(col(WorkOrder.due_at))
    ).all()
    for order in orders:
        assert order.due_at is not None
        have = _kinds(svc, order)
        if now > order.due_at:
            if "yellow" not in have:
                issued.append(
                    _issue(svc, order, "yellow", f"逾期未办结 (due {svc.local(order.due_at)})")
                )
                if _yellow_count_this_month(svc, order) >= sup.red_after_yellow_cards:
                    issued.append(
                        _issue(
                            svc,
                            order,
                            "red",
                            f"本月第 {sup.red_after_yellow_cards} 张以上黄牌 (repeated overdue)",
                        )
                    )
                    have.add("red")
            red_from = svc.limits.end_of_workday(order.due_at, sup.red_after_overdue_working_days)
            if "red" not in have and now > red_from:
                issued.append(
                    _issue(
                        svc,
                        order,
                        "red",
                        f"逾期超过 {sup.red_after_overdue_working_days} 个工作日",
                    )
                )
        elif "warning" not in have and now >= order.due_at - timedelta(
            hours=sup.warning_before_hours
        ):
            issued.append(
                _issue(svc, order, "warning", f"即将到期 (due {svc.local(order.due_at)})")
            )
    return issued


def overdue(svc: WorkOrderService) -> list[Overdue]:
    """Orders held by a unit past their deadline, most overdue first."""
    now = svc.now()
    rows = svc.session.exec(
        select(WorkOrder)
        .where(col(WorkOrder.status).in_(WITH_UNIT))
        .where(col(WorkOrder.due_at) < now)
        .order_by(col(WorkOrder.due_at))
    ).all()
    out = []
    for order in rows:
        assert order.due_at is not None
        out.append(
            Overdue(
                order=order,
                unit=svc.unit_of(order),
                due_at=order.due_at,
                overdue_hours=(now - order.due_at).total_seconds() / 3600,
                cards=tuple(sorted(_kinds(svc, order))),
            )
        )
    return out


def notices(svc: WorkOrderService, kind: str | None = None) -> list[SupervisionNotice]:
    """Issued notices; the red cards are the rectification letters (整改通知) to follow up."""
    q = select(SupervisionNotice).order_by(col(SupervisionNotice.issued_at))
    if kind:
        q = q.where(SupervisionNotice.kind == kind)
    return list(svc.session.exec(q))


def _kinds(svc: WorkOrderService, order: WorkOrder) -> set[str]:
    return set(
        svc.session.exec(
            select(SupervisionNotice.kind).where(SupervisionNotice.order_id == order.id)
        )
    )


def _yellow_count_this_month(svc: WorkOrderService, order: WorkOrder) -> int:
    local = svc.now().astimezone(svc.tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    cards = svc.session.exec(
        select(SupervisionNotice)
        .where(SupervisionNotice.unit_id == order.lead_unit_id)
        .where(SupervisionNotice.kind == "yellow")
        .where(col(SupervisionNotice.issued_at) >= start)
    ).all()
    return len(cards)


def _issue(svc: WorkOrderService, order: WorkOrder, kind: str, reason: str) -> SupervisionNotice:
    now = svc.now()
    notice = SupervisionNotice(
        order_id=order.id or 0, unit_id=order.lead_unit_id, kind=kind, issued_at=now, reason=reason
    )
    svc.session.add(notice)
    svc.session.flush()
    unit = svc.unit_of(order)
    to = unit.sms_number if unit else ""
    if to:
        svc.sms.send(
            SmsMessage(
                to=to,
                text=f"【12345{CARD_ZH[kind]}】工单 {order.number}：{reason}，请及时办理。",
                kind=kind,
                ref=order.number,
                at=now,
            )
        )
    return notice
