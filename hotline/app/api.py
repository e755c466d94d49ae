"""HTTP API (FastAPI) on 127.0.0.1:8345: calls, work orders, status. Docs at /docs.

Every route but /api/status, /api/login and /login needs a token (auth/); every write
is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.acd.agent_page import agent_page_router
from hotline.acd.api import agents_router
from hotline.acd.live_api import live_router
from hotline.agi.api import blocks_router
from hotline.app.health import check_all
from hotline.auth.api import auth_router
from hotline.auth.audit import AuditWrites
from hotline.auth.gate import Gate
from hotline.auth.masking import masked, sees_full_numbers
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal
from hotline.calls.models import CallRecord
from hotline.config.settings import Settings
from hotline.crm_bridge.linkage_api import linkage_router
from hotline.crm_bridge.record import CallOut, call_out
from hotline.recordings.api import recordings_router
from hotline.workorders.api import router as workorders_router
from hotline.workorders.duty_api import router as duty_calls_router
from hotline.workorders.models import WorkOrder
from hotline.workorders.scope import unit_order_ids


class WorkOrderOut(BaseModel):
    number: str
    status: str
    request_type: str
    channel: str
    emergency: bool
    caller_number: str
    linkedid: str
    agent: str
    accepted_at: datetime
    due_date: date | None
    due_working_days: int | None


def create_app(
    settings: Settings, engine: Engine, bridge_connected: Callable[[], bool] | None = None
) -> FastAPI:
    app = FastAPI(
        title="12345 hotline",
        description="Calls, work orders (工单) and health of the 12345 call-handling engine.",
        version="0.1.0",
        docs_url=None,  # served below, behind the login
        redoc_url=None,
        openapi_url=None,
    )
    # every write, allowed or refused, into audit_log (auth/audit.py)
    app.add_middleware(AuditWrites, engine=engine)
    gate = Gate(settings, engine)

    def by_caller(who: Principal, caller: str | None) -> None:
        if caller and not sees_full_numbers(settings, who):
            raise HTTPException(403, f"role {who.role} may not search by a caller's number")

    @app.get("/api/calls", response_model=list[CallOut])
    def list_calls(
        who: Principal = Depends(gate.require(Perm.CALLS_READ)),  # noqa: B008
        caller: str | None = Query(None, description="the caller's full number"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[CallOut]:
        by_caller(who, caller)
        with Session(engine) as s:
            q = select(CallRecord).order_by(col(CallRecord.started_at).desc()).limit(limit)
            if caller:
                q = q.where(CallRecord.caller_number == caller)
            return masked([call_out(r) for r in s.exec(q)], who, settings)

    @app.get("/api/workorders", response_model=list[WorkOrderOut])
    def list_workorders(
        who: Principal = Depends(gate.require(Perm.ORDERS_READ)),  # noqa: B008
        caller: str | None = Query(None, description="the caller's full number"),
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[WorkOrderOut]:
        by_caller(who, caller)
        with Session(engine) as s:
            q = select(WorkOrder).order_by(col(WorkOrder.accepted_at).desc()).limit(limit)
            if caller:
                q = q.where(WorkOrder.caller_number == caller)
            if who.role == Role.UNIT_STAFF:
                q = q.where(col(WorkOrder.id).in_(unit_order_ids(s, who.unit)))
            out = [WorkOrderOut.model_validate(w.model_dump()) for w in s.exec(q)]
        return masked(out, who, settings)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Principal = Depends(gate.anyone())) -> dict[str, Any]:  # noqa: B008
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(_: Principal = Depends(gate.page(None))) -> HTMLResponse:  # noqa: B008
        return get_swagger_ui_html(openapi_url="/openapi.json", title="12345 hotline API")

    @app.get("/api/status")
    async def status() -> dict[str, Any]:
        connected = bridge_connected() if bridge_connected else None
        return await check_all(settings, bridge_connected=connected)

    app.include_router(auth_router(settings, engine))
    app.include_router(recordings_router(settings, engine))
    app.include_router(blocks_router(settings, engine))
    app.include_router(workorders_router(settings, engine))
    app.include_router(duty_calls_router(settings, engine))
    app.include_router(agents_router(settings, engine))
    app.include_router(live_router(settings, engine))
    app.include_router(linkage_router(settings, engine))
    app.include_router(agent_page_router(settings, engine))
    return app
