"""Routes of workorders: the list, the lifecycle actions, overdue and coordination lists,
knowledge search, assessment, analysis, revisits, and the duty calls of emergency orders.

Refusals by the rules answer 409 with {"detail": message, "error_id": ...}. Every route
needs a login (auth/roles.py); the actor written to the order's trail is the token's
user (a body's `actor` is ignored); a unit's staff sees and handles its own orders only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.auth import gate
from hotline.auth.masking import masked
from hotline.auth.roles import UNIT_ACTIONS, Perm, Role
from hotline.auth.tokens import Principal
from hotline.calls.transcripts import transcripts_of_order
from hotline.kernel.masking import mask_number
from hotline.kernel.web import EngineDep, settings_of
from hotline.workorders import (
    analysis,
    assessment,
    duty_calls,
    knowledge,
    satisfaction,
    supervision,
)
from hotline.workorders.context import service_session
from hotline.workorders.duty_plan import minutes_late
from hotline.workorders.errors import InvalidTransition, WorkOrderError
from hotline.workorders.models import DutyCall, OrgUnit, WorkOrder
from hotline.workorders.revisits import open_tasks
from hotline.workorders.scope import unit_may_see, unit_order_ids
from hotline.workorders.service import WorkOrderService
from hotline.workorders.settings import WorkordersConfig

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[WorkordersConfig, Depends(settings_of)]

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


# the package's routes (app/api.py includes this one); `orders` and `duty` are included
# at the end, each under its own tag
router = APIRouter()
orders = APIRouter(tags=["work orders"])
duty = APIRouter(tags=["duty calls"])
REPORTS = Depends(gate.require(Perm.ORDERS_REPORTS))
READER = Depends(gate.require(Perm.ORDERS_READ))
CREATOR = Depends(gate.require(Perm.ORDERS_CREATE))
MANAGER = Depends(gate.require(Perm.ORDERS_MANAGE))
KNOWING = Depends(gate.require(Perm.KNOWLEDGE))
ANYONE = Depends(gate.anyone())

# POST /api/workorders/{number}/{action}: each action on the service
Action = Callable[[WorkOrderService, str, ActionIn], object]
ACTIONS: dict[str, Action] = {
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


@router.get("/api/workorders", response_model=list[WorkOrderOut])
def list_workorders(
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = READER,
    caller: str | None = Query(None, description="the caller's full number"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[WorkOrderOut]:
    gate.caller_search(settings, who, caller)
    with Session(engine) as s:
        q = select(WorkOrder).order_by(col(WorkOrder.accepted_at).desc()).limit(limit)
        if caller:
            q = q.where(WorkOrder.caller_number == caller)
        if who.role == Role.UNIT_STAFF:
            q = q.where(col(WorkOrder.id).in_(unit_order_ids(s, who.unit)))
        out = [WorkOrderOut.model_validate(w.model_dump()) for w in s.exec(q)]
    return masked(out, who, settings)


@orders.get("/api/workorders/overdue", dependencies=[REPORTS])
def overdue(settings: ConfigDep, engine: EngineDep) -> list[dict[str, Any]]:
    with _service(settings, engine) as svc:
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


@orders.get("/api/workorders/coordination")
def coordination(
    settings: ConfigDep, engine: EngineDep, who: Principal = REPORTS
) -> list[OrderDetail]:
    with _service(settings, engine) as svc:
        return [_shown(settings, svc, o, who) for o in svc.coordination_list()]


@orders.post("/api/workorders", status_code=201)
def create(
    body: CreateIn, settings: ConfigDep, engine: EngineDep, who: Principal = CREATOR
) -> OrderDetail:
    with _service(settings, engine) as svc:
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
        return _shown(settings, svc, o, who)


@orders.get("/api/workorders/{number}")
def show(
    number: str, settings: ConfigDep, engine: EngineDep, who: Principal = READER
) -> OrderDetail:
    with _service(settings, engine) as svc:
        o = svc.get(number)
        _unit_check(svc, who, o)
        return _shown(settings, svc, o, who)


@orders.post("/api/workorders/{number}/{action}")
def act(
    number: str,
    action: str,
    body: ActionIn,
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = ANYONE,
) -> OrderDetail:
    if action not in ACTIONS:
        raise HTTPException(
            404,
            detail={
                "detail": f"action {action!r} unknown; allowed: {', '.join(ACTIONS)}",
                "error_id": "unknown_action",
            },
        )
    gate.check(who, Perm.ORDERS_HANDLE if action in UNIT_ACTIONS else Perm.ORDERS_MANAGE)
    _own_unit(who, body.unit)
    body = body.model_copy(update={"actor": who.name})
    with _service(settings, engine) as svc:
        _unit_check(svc, who, svc.get(number))
        ACTIONS[action](svc, number, body)
        return _shown(settings, svc, svc.get(number), who)


@orders.post("/api/extensions/{request_id}")
def decide(
    request_id: int,
    approve: bool,
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = MANAGER,
) -> dict[str, Any]:
    with _service(settings, engine) as svc:
        req = svc.decide_extension(request_id, who.name, approve)
        return {"id": req.id, "status": req.status}


@orders.get("/api/knowledge", dependencies=[KNOWING])
def search(
    settings: ConfigDep, engine: EngineDep, q: str = Query(..., min_length=1)
) -> list[dict[str, Any]]:
    with _service(settings, engine) as svc:
        return [e.model_dump(mode="json") for e in knowledge.search(svc, q)]


@orders.post("/api/knowledge/questions", status_code=201)
def ask(
    body: QuestionIn, settings: ConfigDep, engine: EngineDep, who: Principal = KNOWING
) -> dict[str, Any]:
    with _service(settings, engine) as svc:
        return knowledge.ask(svc, body.unit, body.question, who.name).model_dump(mode="json")


@orders.post("/api/knowledge/questions/{question_id}/answer", status_code=201)
def answer(
    question_id: int,
    body: AnswerIn,
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = KNOWING,
) -> dict[str, Any]:
    _own_unit(who, body.unit)
    with _service(settings, engine) as svc:
        entry = knowledge.answer(svc, question_id, body.unit, body.text, body.tags)
        return entry.model_dump(mode="json")


@orders.get("/api/assessment", dependencies=[REPORTS])
def assess(
    settings: ConfigDep,
    engine: EngineDep,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    year: int | None = None,
) -> list[dict[str, Any]]:
    with _service(settings, engine) as svc:
        if month:
            period = assessment.month(int(month[:4]), int(month[5:]), svc.tz)
        elif year:
            period = assessment.assessment_year(svc, year)
        else:
            raise WorkOrderError("give month=YYYY-MM or year=YYYY")
        return [s.__dict__ for s in assessment.score_all(svc, period)]


@orders.get("/api/analysis/counts", dependencies=[REPORTS])
def counts(
    settings: ConfigDep,
    engine: EngineDep,
    start: date,
    end: date,
    by: str = "type",
    per: str = "day",
) -> dict[str, dict[str, int]]:
    with _service(settings, engine) as svc:
        try:
            table = analysis.counts(svc, start, end, by, per)
        except ValueError as exc:
            raise WorkOrderError(str(exc)) from exc
        return {k: dict(v) for k, v in table.items()}


@orders.get("/api/revisits")
def revisits(
    settings: ConfigDep, engine: EngineDep, who: Principal = REPORTS
) -> list[dict[str, Any]]:
    with _service(settings, engine) as svc:
        tasks = [t.model_dump(mode="json") for t in open_tasks(svc.session)]
    return masked(tasks, who, settings)


@duty.get("/api/duty-calls", dependencies=[REPORTS])
def list_duty_calls(
    settings: ConfigDep,
    engine: EngineDep,
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
        return [_duty_call_out(svc.session, c) for c in calls]


router.include_router(orders)
router.include_router(duty)


@contextmanager
def _service(settings: WorkordersConfig, engine: Engine) -> Iterator[WorkOrderService]:
    """The service on its own session; the rules' refusals as 409 (404: no such order)."""
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


def _unit_check(svc: WorkOrderService, who: Principal, o: WorkOrder) -> None:
    if who.role == Role.UNIT_STAFF and not unit_may_see(svc.session, o, who.unit):
        # the same answer as a missing order: a unit learns nothing of others' orders
        raise WorkOrderError(f"no work order {o.number!r}")


def _own_unit(who: Principal, unit: str) -> None:
    if who.role == Role.UNIT_STAFF and unit and unit != who.unit:
        raise HTTPException(403, f"staff of unit {who.unit} may act for that unit only")


def _shown(
    settings: WorkordersConfig, svc: WorkOrderService, o: WorkOrder, who: Principal
) -> OrderDetail:
    return masked(_detail(svc, o), who, settings)


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


def _duty_call_out(session: Session, call: DutyCall) -> DutyCallOut:
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
