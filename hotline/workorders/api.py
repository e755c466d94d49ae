"""HTTP routes for work orders (included by hotline/api.py): the lifecycle actions,
overdue and coordination lists, knowledge search, assessment, analysis, revisits.

Refusals by the rules answer 409 with {"detail": message, "error_id": ...}. Every route
needs a login (auth/roles.py); the actor written to the order's trail is the token's
user (a body's `actor` is ignored); a unit's staff sees and handles its own orders only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import Engine

from hotline.auth.gate import Gate
from hotline.auth.masking import masked
from hotline.auth.roles import UNIT_ACTIONS, Perm, Role
from hotline.auth.tokens import Principal
from hotline.config.settings import Settings
from hotline.speech.transcripts import transcripts_of_order
from hotline.workorders import analysis, assessment, knowledge, satisfaction, supervision
from hotline.workorders.context import service_session
from hotline.workorders.duty_plan import minutes_late
from hotline.workorders.lifecycle import InvalidTransition, WorkOrderError
from hotline.workorders.models import WorkOrder
from hotline.workorders.revisits import open_tasks
from hotline.workorders.scope import unit_may_see
from hotline.workorders.service import WorkOrderService

TRANSCRIPT_FIELDS = {"kind", "text", "confidence", "model", "language", "created_at"}


class OrderDetail(BaseModel):
    number: str
    status: str
    request_type: str
    channel: str
    emergency: bool
    confidential: bool
    topic: str
    district: str
    content: str
    citizen_name: str
    contact: str
    lead_unit: str | None
    accepted_at: datetime
    dispatched_at: datetime | None
    sign_due_at: datetime | None
    signed_at: datetime | None
    # minutes past the sign limit (emergency: 30 min, art. 26.2.7); 0 on time; None unsigned
    sign_late_minutes: int | None
    due_at: datetime | None
    extended_days: int
    satisfaction: str
    events: list[dict[str, Any]]
    # what was said in the order's message (or call), as recognised (speech/transcribe.py)
    transcripts: list[dict[str, Any]] = []


class CreateIn(BaseModel):
    request_type: str
    channel: str = "phone"
    content: str = ""
    citizen_name: str = ""
    contact: str = ""
    topic: str = ""
    district: str = ""
    emergency: bool = False
    confidential: bool = False
    actor: str = "api"


class ActionIn(BaseModel):
    actor: str = "api"
    unit: str = ""  # dispatch: lead unit; assist-reply: the assisting unit
    assisting: list[str] = []
    text: str = ""  # reply, answer, return/dispute reason, rating
    special_law_days: int | None = None
    special_law_ref: str = ""
    days: int = 0  # extension


class QuestionIn(BaseModel):
    unit: str
    question: str
    actor: str = "api"


class AnswerIn(BaseModel):
    unit: str
    text: str
    tags: str = ""


def _detail(svc: WorkOrderService, o: WorkOrder) -> OrderDetail:
    unit = svc.unit_of(o)
    masked = o.confidential
    return OrderDetail(
        number=o.number,
        status=o.status,
        request_type=o.request_type,
        channel=o.channel,
        emergency=o.emergency,
        confidential=o.confidential,
        topic=o.topic,
        district=o.district,
        content="(保密)" if masked else o.content,
        citizen_name="(保密)" if masked else o.citizen_name,
        contact="(保密)" if masked else o.contact,
        lead_unit=unit.code if unit else None,
        accepted_at=o.accepted_at,
        dispatched_at=o.dispatched_at,
        sign_due_at=o.sign_due_at,
        signed_at=o.signed_at,
        sign_late_minutes=minutes_late(o.sign_due_at, o.signed_at),
        due_at=o.due_at,
        extended_days=o.extended_days,
        satisfaction=o.satisfaction,
        events=[e.model_dump(mode="json", exclude={"id", "order_id"}) for e in svc.events(o)],
        transcripts=[
            t.model_dump(mode="json", include=TRANSCRIPT_FIELDS)
            | ({"text": "(保密)"} if masked else {})
            for t in transcripts_of_order(svc.session, o.number)
        ],
    )


def router(settings: Settings, engine: Engine) -> APIRouter:
    api = APIRouter(tags=["work orders"])
    gate = Gate(settings, engine)
    reports = Depends(gate.require(Perm.ORDERS_REPORTS))
    reader = Depends(gate.require(Perm.ORDERS_READ))
    creator = Depends(gate.require(Perm.ORDERS_CREATE))
    manager = Depends(gate.require(Perm.ORDERS_MANAGE))
    knowing = Depends(gate.require(Perm.KNOWLEDGE))

    def unit_check(svc: WorkOrderService, who: Principal, o: WorkOrder) -> None:
        if who.role == Role.UNIT_STAFF and not unit_may_see(svc.session, o, who.unit):
            # the same answer as a missing order: a unit learns nothing of others' orders
            raise WorkOrderError(f"no work order {o.number!r}")

    def own_unit(who: Principal, unit: str) -> None:
        if who.role == Role.UNIT_STAFF and unit and unit != who.unit:
            raise HTTPException(403, f"staff of unit {who.unit} may act for that unit only")

    def shown(svc: WorkOrderService, o: WorkOrder, who: Principal) -> OrderDetail:
        return masked(_detail(svc, o), who, settings)

    @contextmanager
    def svc_() -> Iterator[WorkOrderService]:
        try:
            with service_session(settings, engine) as svc:
                yield svc
        except InvalidTransition as exc:
            raise HTTPException(
                409, detail={"detail": str(exc), "error_id": "invalid_transition"}
            ) from exc
        except WorkOrderError as exc:
            status = 404 if str(exc).startswith("no ") else 409
            raise HTTPException(
                status, detail={"detail": str(exc), "error_id": "workorder_rule"}
            ) from exc

    @api.get("/api/workorders/overdue", dependencies=[reports])
    def overdue() -> list[dict[str, Any]]:
        with svc_() as svc:
            supervision.sweep(svc)
            return [
                {
                    "number": i.order.number,
                    "unit": i.unit.code if i.unit else None,
                    "due_at": i.due_at,
                    "overdue_hours": round(i.overdue_hours, 2),
                    "cards": list(i.cards),
                }
                for i in supervision.overdue(svc)
            ]

    @api.get("/api/workorders/coordination")
    def coordination(who: Principal = reports) -> list[OrderDetail]:
        with svc_() as svc:
            return [shown(svc, o, who) for o in svc.coordination_list()]

    @api.post("/api/workorders", status_code=201)
    def create(body: CreateIn, who: Principal = creator) -> OrderDetail:
        with svc_() as svc:
            o = svc.create(
                request_type=body.request_type,
                channel=body.channel,
                content=body.content,
                citizen_name=body.citizen_name,
                contact=body.contact,
                caller_number=body.contact,
                topic=body.topic,
                district=body.district,
                emergency=body.emergency,
                confidential=body.confidential,
                agent=who.agent_id or who.name,
            )
            return shown(svc, o, who)

    @api.get("/api/workorders/{number}")
    def show(number: str, who: Principal = reader) -> OrderDetail:
        with svc_() as svc:
            o = svc.get(number)
            unit_check(svc, who, o)
            return shown(svc, o, who)

    actions: dict[str, Callable[[WorkOrderService, str, ActionIn], object]] = {
        "dispatch": lambda s, n, b: s.dispatch(
            n,
            b.actor,
            b.unit,
            assisting=b.assisting,
            special_law_days=b.special_law_days,
            special_law_ref=b.special_law_ref,
        ),
        "sign": lambda s, n, b: s.sign(n, b.actor),
        "return": lambda s, n, b: s.return_order(n, b.actor, b.text),
        "dispute": lambda s, n, b: s.dispute(n, b.actor, b.text),
        "reply": lambda s, n, b: s.reply(n, b.actor, b.text),
        "assist-reply": lambda s, n, b: s.assist_reply(n, b.unit, b.actor, b.text),
        "reject-reply": lambda s, n, b: s.reject_reply(n, b.actor, b.text),
        "answer": lambda s, n, b: s.answer(n, b.actor, b.text),
        "close": lambda s, n, b: s.close(n, b.actor),
        "rate": lambda s, n, b: satisfaction.rate(s, n, b.text),
        "reopen": lambda s, n, b: s.reopen(n, b.actor, b.text),
        "archive": lambda s, n, b: s.archive(n, b.actor),
        "extend": lambda s, n, b: s.request_extension(n, b.actor, b.days, b.text),
    }

    @api.post("/api/workorders/{number}/{action}")
    def act(
        number: str,
        action: str,
        body: ActionIn,
        who: Principal = Depends(gate.anyone()),  # noqa: B008
    ) -> OrderDetail:
        if action not in actions:
            raise HTTPException(
                404,
                detail={
                    "detail": f"action {action!r} unknown; allowed: {', '.join(actions)}",
                    "error_id": "unknown_action",
                },
            )
        Gate.check(who, Perm.ORDERS_HANDLE if action in UNIT_ACTIONS else Perm.ORDERS_MANAGE)
        own_unit(who, body.unit)
        body = body.model_copy(update={"actor": who.name})
        with svc_() as svc:
            unit_check(svc, who, svc.get(number))
            actions[action](svc, number, body)
            return shown(svc, svc.get(number), who)

    @api.post("/api/extensions/{request_id}")
    def decide(request_id: int, approve: bool, who: Principal = manager) -> dict[str, Any]:
        with svc_() as svc:
            req = svc.decide_extension(request_id, who.name, approve)
            return {"id": req.id, "status": req.status}

    @api.get("/api/knowledge", dependencies=[knowing])
    def search(q: str = Query(..., min_length=1)) -> list[dict[str, Any]]:
        with svc_() as svc:
            return [e.model_dump(mode="json") for e in knowledge.search(svc, q)]

    @api.post("/api/knowledge/questions", status_code=201)
    def ask(body: QuestionIn, who: Principal = knowing) -> dict[str, Any]:
        with svc_() as svc:
            return knowledge.ask(svc, body.unit, body.question, who.name).model_dump(mode="json")

    @api.post("/api/knowledge/questions/{question_id}/answer", status_code=201)
    def answer(question_id: int, body: AnswerIn, who: Principal = knowing) -> dict[str, Any]:
        own_unit(who, body.unit)
        with svc_() as svc:
            entry = knowledge.answer(svc, question_id, body.unit, body.text, body.tags)
            return entry.model_dump(mode="json")

    @api.get("/api/assessment", dependencies=[reports])
    def assess(
        month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
        year: int | None = None,
    ) -> list[dict[str, Any]]:
        with svc_() as svc:
            if month:
                period = assessment.month(int(month[:4]), int(month[5:]), svc.tz)
            elif year:
                period = assessment.assessment_year(svc, year)
            else:
                raise WorkOrderError("give month=YYYY-MM or year=YYYY")
            return [s.__dict__ for s in assessment.score_all(svc, period)]

    @api.get("/api/analysis/counts", dependencies=[reports])
    def counts(
        start: date, end: date, by: str = "type", per: str = "day"
    ) -> dict[str, dict[str, int]]:
        with svc_() as svc:
            try:
                table = analysis.counts(svc, start, end, by, per)
            except ValueError as exc:
                raise WorkOrderError(str(exc)) from exc
            return {k: dict(v) for k, v in table.items()}

    @api.get("/api/revisits")
    def revisits(who: Principal = reports) -> list[dict[str, Any]]:
        with svc_() as svc:
            tasks = [t.model_dump(mode="json") for t in open_tasks(svc.session)]
        return masked(tasks, who, settings)

    return api
