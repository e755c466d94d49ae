"""Which work orders a handling unit's staff may see: those it leads or assists (协办)."""

from __future__ import annotations

from sqlmodel import Session, select

from hotline.workorders.models import OrgUnit, WorkOrder, WorkOrderAssist


def unit_order_ids(session: Session, unit_code: str) -> list[int]:
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == unit_code)).first()
    if unit is None or unit.id is None:
        return []
    led = session.exec(select(WorkOrder.id).where(WorkOrder.lead_unit_id == unit.id))
    assisted = session.exec(
        select(WorkOrderAssist.order_id).where(WorkOrderAssist.unit_id == unit.id)
    )
    return sorted({i for i in led if i is not None} | set(assisted))


def unit_may_see(session: Session, order: WorkOrder, unit_code: str) -> bool:
    return order.id is not None and order.id in unit_order_ids(session, unit_code)
