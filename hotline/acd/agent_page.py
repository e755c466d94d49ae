"""Routes of the agent page (/agent, included by acd/http.py): screen pop, work-order
form, log in / pause / unpause.

Needs a login (the login page's cookie, or a Bearer token): an agent sees only their own
phone's rings; a supervisor may open any agent's page read-only (/agent?agent=1003).
The page's feed (acd/agent_feed.py) relays the rings and state changes that the acd
service publishes on Redis, with the caller's history from the database.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from hotline.acd.agent_feed import AgentFeed, hello
from hotline.acd.errors import NotYours
from hotline.acd.settings import AcdConfig
from hotline.auth import gate
from hotline.auth.gate import CLOSE_FORBIDDEN
from hotline.auth.masking import masked
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal
from hotline.kernel.masking import mask_number
from hotline.kernel.names import REQUEST_TYPE_TITLES
from hotline.kernel.web import EngineDep, engine_of, settings_of
from hotline.speech.search import search_orders
from hotline.workorders.context import service_session
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import Channel

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[AcdConfig, Depends(settings_of)]

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parent / "agent_page_files"
PAGE_FILES = {"agent.js": "text/javascript", "agent.css": "text/css"}


def page_agent(settings: AcdConfig, who: Principal, asked: str) -> tuple[str, bool]:
    """(whose page, read-only): an agent's own; any agent's, read-only, for a supervisor."""
    if who.role == Role.AGENT:
        if asked and asked != who.agent_id:
            raise NotYours(f"agent {who.agent_id} may open their own page only")
        return who.agent_id, False
    known = [a.id for a in settings.agents]
    if asked not in known:
        raise NotYours(f"name the agent: /agent?agent=ID; known: {', '.join(known) or 'none'}")
    return asked, True


class OrderForm(BaseModel):
    """The form's fields; each refusal names its field (FastAPI's 422 `loc`)."""

    linkedid: str = Field("", max_length=64)
    request_type: str
    channel: str = Channel.PHONE.value
    caller_number: str = Field("", max_length=40)
    contact: str = Field("", max_length=40)
    citizen_name: str = Field("", max_length=80)
    district: str = Field("", max_length=40)
    address: str = Field("", max_length=200)
    content: str = Field(min_length=1, max_length=20_000)
    topics: list[str] = Field(default_factory=list)
    emergency: bool = False
    confidential: bool = False

    @field_validator("request_type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in REQUEST_TYPE_TITLES:
            raise ValueError("请选择诉求类型: " + ", ".join(REQUEST_TYPE_TITLES))
        return v

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in {c.value for c in Channel}:
            raise ValueError("unknown channel; allowed: " + ", ".join(c.value for c in Channel))
        return v

    @field_validator("content")
    @classmethod
    def _content(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("请填写诉求内容")
        return v

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str]) -> list[str]:
        tags = [t.strip() for t in v if t.strip()]
        if len("、".join(tags)) > 40:
            raise ValueError("话题标签合计不超过40字")
        return tags


class OrderCreated(BaseModel):
    number: str
    status: str
    query_code: str


router = APIRouter(tags=["agent page"])
PAGE = Depends(gate.page(Perm.AGENT_PAGE))


def agent_user(who: Principal = Depends(gate.require(Perm.ORDERS_CREATE))) -> Principal:  # noqa: B008
    if who.role != Role.AGENT or not who.agent_id:
        raise HTTPException(403, "the order form is an agent's (their calls, their id)")
    return who


AGENT = Depends(agent_user)


@router.get("/agent", include_in_schema=False)
async def page(
    settings: ConfigDep,
    agent: str = Query("", description="a supervisor's read-only view of this agent"),
    who: Principal = PAGE,
) -> FileResponse:
    try:
        page_agent(settings, who, agent)
    except NotYours as exc:
        raise HTTPException(403, str(exc)) from exc
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html")


@router.get("/agent/{name}", include_in_schema=False, dependencies=[PAGE])
async def page_file(name: str) -> FileResponse:
    if name not in PAGE_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name])


@router.post("/api/agent/workorders", status_code=201, response_model=OrderCreated)
def create_order(
    form: OrderForm, settings: ConfigDep, engine: EngineDep, u: Principal = AGENT
) -> OrderCreated:
    """The agent page's work-order form: an order accepted from the call (受理)."""
    try:
        with service_session(settings, engine) as svc:
            o = svc.create(**_order_fields(form), agent=u.agent_id)
            created = OrderCreated(number=o.number, status=o.status, query_code=o.query_code)
    except WorkOrderError as exc:
        raise HTTPException(409, {"detail": str(exc), "error_id": "workorder_rule"}) from exc
    log.info(
        "agent %s created work order %s for %s",
        u.agent_id,
        created.number,
        mask_number(form.caller_number),
    )
    return created


@router.get("/api/agent/search")
def search(
    settings: ConfigDep,
    engine: EngineDep,
    q: str = Query(..., min_length=1, max_length=100),
    u: Principal = AGENT,
) -> list[dict[str, Any]]:
    """Work orders whose content, topic, number or message transcript contains q."""
    with Session(engine) as s:
        hits = search_orders(s, q)
    found = [
        asdict(h)
        | {
            "accepted_at": h.accepted_at.isoformat(),
            "request_type_title": REQUEST_TYPE_TITLES.get(h.request_type, h.request_type),
        }
        for h in hits
    ]
    return masked(found, u, settings)


@router.websocket("/api/agent/ws")
async def feed(websocket: WebSocket) -> None:
    """The page's feed: hello, the state, then every state change and screen pop."""
    settings = settings_of(websocket)
    opened = await _open_feed(websocket, settings)
    if opened is None:
        return
    user, agent_id, read_only = opened
    feed = AgentFeed(websocket, settings, engine_of(websocket), agent_id)
    try:
        await feed.send(hello(settings, user, agent_id, read_only))
        if await feed.start():
            await feed.relay()
    except (WebSocketDisconnect, RuntimeError):  # the page went away mid-send
        return
    finally:
        await feed.aclose()


async def _open_feed(
    websocket: WebSocket, settings: AcdConfig
) -> tuple[Principal, str, bool] | None:
    """(who, whose page, read-only) of an accepted feed; None after refusing it."""
    user = await gate.websocket_user(websocket, Perm.AGENT_PAGE)
    if user is None:
        return None
    try:
        agent_id, read_only = page_agent(settings, user, websocket.query_params.get("agent", ""))
    except NotYours as exc:
        await websocket.accept()
        await websocket.close(code=CLOSE_FORBIDDEN, reason=str(exc)[:120])
        return None
    await websocket.accept()
    return user, agent_id, read_only


def _order_fields(form: OrderForm) -> dict[str, Any]:
    """The service's fields of an order from the form (the address goes into the content)."""
    content = form.content.strip()
    if form.address.strip():
        content = f"{content}\n地址：{form.address.strip()}"
    return {
        "request_type": form.request_type,
        "channel": form.channel,
        "content": content,
        "citizen_name": form.citizen_name.strip(),
        "contact": form.contact.strip(),
        "caller_number": form.caller_number.strip(),
        "topic": "、".join(form.topics),
        "district": form.district.strip(),
        "emergency": form.emergency,
        "confidential": form.confidential,
        "linkedid": form.linkedid,
    }
