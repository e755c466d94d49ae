"""The agent page's live feed (the WebSocket of acd/agent_page.py): the agent's state and
rings from Redis (acd/agent_service.py), each ring as a screen pop with the caller's
history from the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.acd.agent_service import agent_events_channel, agent_key, ring_key
from hotline.acd.agent_state import PAUSE_REASONS, SYSTEM_REASONS
from hotline.acd.screen_pop import (
    OPEN_STATUSES,
    RAPID_RESPONSE_TOPICS,
    OpenOrder,
    PastCall,
    Ring,
    build_screen_pop,
)
from hotline.acd.settings import AcdConfig
from hotline.auth.gate import Recheck
from hotline.auth.tokens import Principal
from hotline.calls.models import CallRecord
from hotline.kernel.names import REQUEST_TYPE_TITLES
from hotline.kernel.redis_conn import redis_client
from hotline.workorders.models import Channel, WorkOrder

BUSY = ("ringing", "on_call", "wrap_up")  # states in which the last ring's pop is shown
CHANNEL_TITLES = {
    Channel.PHONE: "电话",
    Channel.WEBSITE: "热线网站",
    Channel.WECHAT: "微信",
    Channel.APP: "移动客户端",
    Channel.CHAIRMAN_MAILBOX: "主席信箱",
    Channel.GOV_PLATFORM: "数字政务一体化平台",
    Channel.GOV_WEBSITE: "中国政府网",
}


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


class AgentFeed:
    """One agent page's feed: the agent's events from Redis (acd/agent_service.py), each
    ring as a screen pop with the caller's history from the database."""

    def __init__(
        self, websocket: WebSocket, settings: AcdConfig, engine: Engine, agent_id: str
    ) -> None:
        self.websocket = websocket
        self.settings = settings
        self.engine = engine
        self.agent_id = agent_id
        self.tenant = settings.live_namespace
        self.redis = redis_client(settings)
        self.pubsub = self.redis.pubsub()

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(message, ensure_ascii=False))

    async def start(self) -> bool:
        """Subscribe, then send the agent's state and, mid-call, the last ring's pop.
        False after telling the page that Redis is out of reach."""
        try:
            await self.pubsub.subscribe(agent_events_channel(self.tenant, self.agent_id))
            raw = await self.redis.hgetall(agent_key(self.tenant, self.agent_id))
            state = {str(k): str(v) for k, v in raw.items()}
            await self.send({"kind": "state", "agent": self.agent_id, **state})
            if state.get("state") in BUSY:
                last = await self.redis.get(ring_key(self.tenant, self.agent_id))
                if last:
                    await self.send(await self.pop(Ring.from_json(json.loads(last))))
        except (RedisError, OSError) as exc:
            await self.redis_failed(exc)
            return False
        return True

    async def relay(self) -> None:
        """Every state change and ring, until the page goes away or its login lapses."""
        receiver = asyncio.create_task(drain(self.websocket))
        login = Recheck(self.websocket)
        try:
            while not receiver.done() and await login.still_valid():
                try:
                    msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except (RedisError, OSError) as exc:
                    await self.redis_failed(exc)
                    return
                if msg is not None:
                    await self.forward(json.loads(msg["data"]))
        finally:
            receiver.cancel()

    async def forward(self, event: dict[str, Any]) -> None:
        if event.get("kind") == "ring":
            await self.send(await self.pop(Ring.from_json(event)))
        elif event.get("kind") == "state":
            await self.send(event)

    async def pop(self, ring: Ring) -> dict[str, Any]:
        past, open_ = await asyncio.to_thread(caller_history, self.engine, ring.caller)
        titles = {q.name: q.title for q in self.settings.queues}
        return build_screen_pop(
            ring, past, open_, datetime.now(UTC), queue_title=titles.get(ring.queue, "")
        )

    async def redis_failed(self, exc: Exception) -> None:
        await self.send({"kind": "error", "detail": f"Redis unreachable ({exc})"})
        await self.websocket.close(code=1011, reason="Redis unreachable")

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.pubsub.aclose()
        await self.redis.aclose()


def hello(settings: AcdConfig, user: Principal, agent_id: str, read_only: bool) -> dict[str, Any]:
    """The feed's first message: who, and the form's choices."""
    names = {a.id: a.name for a in settings.agents}
    return {
        "kind": "hello",
        "agent": agent_id,
        "name": names.get(agent_id, ""),
        "user": user.name,
        "read_only": read_only,
        "city_name": settings.city_name,
        "pause_reasons": [{"code": p.code, "title": p.title} for p in PAUSE_REASONS],
        "system_reasons": [{"code": p.code, "title": p.title} for p in SYSTEM_REASONS],
        "request_types": [{"code": k, "title": v} for k, v in REQUEST_TYPE_TITLES.items()],
        "channels": [{"code": k.value, "title": v} for k, v in CHANNEL_TITLES.items()],
        "topics": list(RAPID_RESPONSE_TOPICS),
    }


async def drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the page sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
