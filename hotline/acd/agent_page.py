"""The agent page (/agent): screen pop, work-order form, log in / pause / unpause.

Needs a login (the login page's cookie, or a Bearer token): an agent sees only their own
phone's rings; a supervisor may open any agent's page read-only (/agent?agent=1003).
The acd service publishes
rings and state changes on Redis (acd/agent_service.py); this feed adds the caller's
history from the database and pushes it to the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, field_validator
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.acd.agent_state import PAUSE_REASONS
from hotline.acd.screen_pop import (
    OPEN_STATUSES,
    RAPID_RESPONSE_TOPICS,
    OpenOrder,
    PastCall,
    Ring,
    build_screen_pop,
)
from hotline.auth.gate import CLOSE_FORBIDDEN, Gate, Recheck
from hotline.auth.masking import masked
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal
from hotline.calls.models import CallRecord
from hotline.config.names import REQUEST_TYPE_TITLES
from hotline.config.settings import Settings
from hotline.kernel.masking import mask_number
from hotline.workorders.models import Channel, WorkOrder

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parent / "agent_page_files"
PAGE_FILES = {"agent.js": "text/javascript", "agent.css": "text/css"}
CHANNEL_TITLES = {
    Channel.PHONE: "电话",
    Channel.WEBSITE: "热线网站",
    Channel.WECHAT: "微信",
    Channel.APP: "移动客户端",
    Channel.CHAIRMAN_MAILBOX: "主席信箱",
    Channel.GOV_PLATFORM: "数字政务一体化平台",
    Channel.GOV_WEBSITE: "中国政府网",
}


class NotYours(Exception):
    """An agent asked for another agent's page, or a supervisor named no agent."""


def page_agent(settings: Settings, who: Principal, asked: str) -> tuple[str, bool]:
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


def caller_history(
    engine: Engine, number: str, limit: int = 10
) -> tuple[list[PastCall], list[OpenOrder]]:
    """The caller's earlier calls and open orders (confidential ones without content)."""
    if not number:
        return [], []
    with Session(engine) as s:
        calls = s.exec(
            select(CallRecord)
            .where(CallRecord.caller_number == number)
            .order_by(col(CallRecord.started_at).desc())
            .limit(limit)
        )
        past = [
            PastCall(
                r.linkedid, r.started_at, r.disposition, r.request_type, r.agent, r.talk_seconds
            )
            for r in calls
        ]
        orders = s.exec(
            select(WorkOrder)
            .where(WorkOrder.caller_number == number, col(WorkOrder.status).in_(OPEN_STATUSES))
            .order_by(col(WorkOrder.accepted_at).desc())
            .limit(limit)
        )
        open_ = [
            OpenOrder(
                o.number,
                o.status,
                o.request_type,
                o.accepted_at,
                o.due_at,
                o.topic,
                "(保密)" if o.confidential else o.content,
            )
            for o in orders
        ]
    return past, open_


def agent_page_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(tags=["agent page"])
    tenant = settings.live_namespace

    gate = Gate(settings, engine)
    page_of = gate.page(Perm.AGENT_PAGE)

    def agent_user(who: Principal = Depends(gate.require(Perm.ORDERS_CREATE))) -> Principal:  # noqa: B008
        if who.role != Role.AGENT or not who.agent_id:
            raise HTTPException(403, "the order form is an agent's (their calls, their id)")
        return who

    async def pop_of(ring: Ring) -> dict[str, Any]:
        from datetime import UTC, datetime

        past, open_ = await asyncio.to_thread(caller_history, engine, ring.caller)
        titles = {q.name: q.title for q in settings.queues}
        return build_screen_pop(
            ring, past, open_, datetime.now(UTC), queue_title=titles.get(ring.queue, "")
        )

    @router.get("/agent", include_in_schema=False)
    async def page(
        agent: str = Query("", description="a supervisor's read-only view of this agent"),
        who: Principal = Depends(page_of),  # noqa: B008
    ) -> FileResponse:
        try:
            page_agent(settings, who, agent)
        except NotYours as exc:
            raise HTTPException(403, str(exc)) from exc
        return FileResponse(PAGE_DIR / "index.html", media_type="text/html")

    @router.get("/agent/{name}", include_in_schema=False, dependencies=[Depends(page_of)])
    async def page_file(name: str) -> FileResponse:
        if name not in PAGE_FILES:
            raise HTTPException(404, "no such file")
        return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name])

    @router.post("/api/agent/workorders", status_code=201, response_model=OrderCreated)
    def create_order(form: OrderForm, u: Principal = Depends(agent_user)) -> OrderCreated:  # noqa: B008
        """The agent page's work-order form: an order accepted from the call (受理)."""
        from hotline.workorders.context import service_session
        from hotline.workorders.lifecycle import WorkOrderError

        content = form.content.strip()
        if form.address.strip():
            content = f"{content}\n地址：{form.address.strip()}"
        try:
            with service_session(settings, engine) as svc:
                o = svc.create(
                    request_type=form.request_type,
                    channel=form.channel,
                    content=content,
                    citizen_name=form.citizen_name.strip(),
                    contact=form.contact.strip(),
                    caller_number=form.caller_number.strip(),
                    topic="、".join(form.topics),
                    district=form.district.strip(),
                    emergency=form.emergency,
                    confidential=form.confidential,
                    linkedid=form.linkedid,
                    agent=u.agent_id,
                )
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
        q: str = Query(..., min_length=1, max_length=100),
        u: Principal = Depends(agent_user),  # noqa: B008
    ) -> list[dict[str, Any]]:
        """Work orders whose content, topic, number or message transcript contains q."""
        from dataclasses import asdict

        from hotline.speech.search import search_orders

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
        from hotline.acd.agent_service import agent_events_channel, agent_key, ring_key
        from hotline.kernel.redis_conn import redis_client

        user = await gate.websocket(websocket, Perm.AGENT_PAGE)
        if user is None:
            return
        try:
            agent_id, read_only = page_agent(
                settings, user, websocket.query_params.get("agent", "")
            )
        except NotYours as exc:
            await websocket.accept()
            await websocket.close(code=CLOSE_FORBIDDEN, reason=str(exc)[:120])
            return
        await websocket.accept()
        names = {a.id: a.name for a in settings.agents}
        r = redis_client(settings)
        pubsub = r.pubsub()

        async def send(message: dict[str, Any]) -> None:
            await websocket.send_text(json.dumps(message, ensure_ascii=False))

        try:
            await send(
                {
                    "kind": "hello",
                    "agent": agent_id,
                    "name": names.get(agent_id, ""),
                    "user": user.name,
                    "read_only": read_only,
                    "city_name": settings.city_name,
                    "pause_reasons": [{"code": p.code, "title": p.title} for p in PAUSE_REASONS],
                    "request_types": [
                        {"code": k, "title": v} for k, v in REQUEST_TYPE_TITLES.items()
                    ],
                    "channels": [{"code": k.value, "title": v} for k, v in CHANNEL_TITLES.items()],
                    "topics": list(RAPID_RESPONSE_TOPICS),
                }
            )
            try:
                await pubsub.subscribe(agent_events_channel(tenant, agent_id))
                state = {
                    str(k): str(v)
                    for k, v in (await r.hgetall(agent_key(tenant, agent_id))).items()
                }
                await send({"kind": "state", "agent": agent_id, **state})
                if state.get("state") in ("ringing", "on_call", "wrap_up"):
                    last = await r.get(ring_key(tenant, agent_id))
                    if last:
                        await send(await pop_of(Ring.from_json(json.loads(last))))
            except (RedisError, OSError) as exc:
                await send({"kind": "error", "detail": f"Redis unreachable ({exc})"})
                await websocket.close(code=1011, reason="Redis unreachable")
                return
            receiver = asyncio.create_task(_drain(websocket))
            login = Recheck(gate, websocket)
            try:
                while not receiver.done() and await login.still_valid():
                    try:
                        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    except (RedisError, OSError) as exc:
                        await send({"kind": "error", "detail": f"Redis unreachable ({exc})"})
                        await websocket.close(code=1011, reason="Redis unreachable")
                        return
                    if msg is None:
                        continue
                    event = json.loads(msg["data"])
                    if event.get("kind") == "ring":
                        await send(await pop_of(Ring.from_json(event)))
                    elif event.get("kind") == "state":
                        await send(event)
            finally:
                receiver.cancel()
        except (WebSocketDisconnect, RuntimeError):  # the page went away mid-send
            return
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            await r.aclose()

    return router


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the page sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
