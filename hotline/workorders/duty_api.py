"""HTTP view of duty calls (included by hotline/api.py): emergency orders phoned to
their units, every attempt with its outcome, and the late ones (a supervisor's view)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.auth.gate import Gate
from hotline.auth.roles import Perm
from hotline.config.settings import Settings
from hotline.kernel.masking import mask_number
from hotline.workorders import duty_calls
from hotline.workorders.context import service_session
from hotline.workorders.duty_calls import DutyCall
from hotline.workorders.lifecycle import WorkOrderError
from hotline.workorders.models import OrgUnit, WorkOrder


class AttemptOut(BaseModel):
    role: str
    number: str  # masked
    try_no: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str
    detail: str


class DutyCallOut(BaseModel):
    order: str
    unit: str
    status: str
    dispatched_at: datetime
    sign_due_at: datetime | None
    signed_at: datetime | None
    signed_by: str
    minutes_late: int | None  # past the sign limit; 0 on time; None while unsigned
    not_signed_in_time: bool  # the limit passed unsigned (alarm sent)
    attempts: list[AttemptOut]


def router(settings: Settings, engine: Engine) -> APIRouter:
    api = APIRouter(tags=["duty calls"])
    reports = Depends(Gate(settings, engine).require(Perm.ORDERS_REPORTS))

    @api.get("/api/duty-calls", dependencies=[reports])
    def list_duty_calls(
        order: str | None = None,
        late: bool = Query(False, description="only those signed late or not in time"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[DutyCallOut]:
        with service_session(settings, engine) as svc:
            try:
                order_id = svc.get(order).id if order else None
            except WorkOrderError as exc:
                raise HTTPException(
                    404, detail={"detail": str(exc), "error_id": "workorder_rule"}
                ) from exc
            calls = duty_calls.listing(svc.session, order_id=order_id, late=late, limit=limit)
            return [_out(svc.session, c) for c in calls]

    return api


def _out(session: Session, call: DutyCall) -> DutyCallOut:
    order = session.get(WorkOrder, call.order_id)
    unit = session.get(OrgUnit, call.unit_id)
    return DutyCallOut(
        order=order.number if order else str(call.order_id),
        unit=unit.code if unit else str(call.unit_id),
        status=call.status,
        dispatched_at=call.dispatched_at,
        sign_due_at=call.sign_due_at,
        signed_at=call.signed_at,
        signed_by=call.signed_by,
        minutes_late=call.minutes_late,
        not_signed_in_time=call.overdue_alarm_at is not None,
        attempts=[
            AttemptOut(
                role=a.role,
                number=mask_number(a.number),
                try_no=a.try_no,
                started_at=a.started_at,
                answered_at=a.answered_at,
                ended_at=a.ended_at,
                outcome=a.outcome,
                detail=a.detail,
            )
            for a in duty_calls.attempts(session, call)
        ],
    )
