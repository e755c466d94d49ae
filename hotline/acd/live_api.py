"""HTTP API of the live numbers and the wallboard page: read-only, from Redis.

Needs a login (auth/, permission `live`): a Bearer token, or the login page's cookie
for the wallboard page and its WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import Engine

from hotline.acd import live_keys
from hotline.auth.gate import Gate, Recheck
from hotline.auth.roles import Perm
from hotline.config.settings import Settings
from hotline.kernel.redis_conn import redis_client

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parent / "wallboard"
PAGE_FILES = {"wallboard.js": "text/javascript", "wallboard.css": "text/css"}
AGENT_STATES = ("available", "ringing", "on_call", "wrap_up", "paused", "logged_out")


class AgentLive(BaseModel):
    id: str
    name: str
    state: str
    since: str
    state_seconds: int | None
    reason: str
    queues: list[str]
    calls_handled: int


def _agent(agent_id: str, raw: dict[str, str], names: dict[str, str], now: datetime) -> AgentLive:
    since, seconds = raw.get("since", ""), None
    with contextlib.suppress(ValueError, TypeError):  # absent, or not ISO-8601 with a zone
        seconds = max(0, int((now - datetime.fromisoformat(since)).total_seconds()))
    try:
        handled = int(raw.get("calls_handled", "0") or 0)
    except ValueError:
        handled = 0
    state = raw.get("state", "")
    return AgentLive(
        id=agent_id,
        name=names.get(agent_id, ""),
        state=state if state in AGENT_STATES else (state or "logged_out"),
        since=since,
        state_seconds=seconds,
        reason=raw.get("reason", ""),
        queues=[q for q in raw.get("queues", "").split(",") if q],
        calls_handled=handled,
    )


def _texts(values: Iterable[bytes | str]) -> set[str]:
    return {v.decode() if isinstance(v, bytes) else v for v in values}


class LiveReader:
    """Reads what the live service and the agent-state service keep in Redis."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tenant = settings.live_namespace
        self.redis = redis_client(settings, 2.0, fail_fast=True)

    async def queues(self) -> list[dict[str, Any]]:
        t = self.tenant
        known = _texts(await self.redis.smembers(live_keys.queues_key(t)))
        order = self.settings.queue_names()
        names = [n for n in order if n in known] + sorted(n for n in known if n not in order)
        async with self.redis.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.hget(live_keys.queue_key(t, n), "json")
            raw = await pipe.execute()
        titles = {q.name: q.title for q in self.settings.queues}
        out = []
        for body in raw:
            if body:
                snap = json.loads(body)
                snap["title"] = titles.get(snap["queue"], snap["queue"])
                out.append(snap)
        return out

    async def total(self) -> dict[str, Any] | None:
        body = await self.redis.hget(live_keys.total_key(self.tenant), "json")
        return json.loads(body) if body else None

    async def agents(self) -> list[AgentLive]:
        from hotline.acd.agents import all_agents

        t = self.tenant
        ids = sorted(_texts(await self.redis.smembers(live_keys.agents_key(t))))
        async with self.redis.pipeline(transaction=False) as pipe:
            for agent_id in ids:
                pipe.hgetall(live_keys.agent_key(t, agent_id))
            rows = await pipe.execute()
        names = {a.id: a.name for a in await asyncio.to_thread(all_agents, self.settings)}
        now = datetime.now(UTC)
        return [_agent(i, r, names, now) for i, r in zip(ids, rows, strict=True) if r]

    async def board(self) -> dict[str, Any]:
        """Everything the wallboard shows, in one message."""
        live = self.settings.live
        return {
            "city_name": self.settings.city_name,
            "at": datetime.now(UTC).isoformat(),
            "thresholds": live.service_level_seconds,
            "target_percent": live.target_percent,
            "window_minutes": live.window_minutes,
            "queues": await self.queues(),
            "total": await self.total(),
            "agents": [a.model_dump() for a in await self.agents()],
            "emergencies": await self.emergencies(),
        }

    async def emergencies(self) -> list[dict[str, Any]]:
        """Calls marked as emergency matters (紧急标记) in the last hour, newest first."""
        from hotline.acd.emergency_mark import shown

        return await shown(self.redis, self.tenant)

    async def aclose(self) -> None:
        await self.redis.aclose()


def live_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(tags=["live numbers"])
    gate = Gate(settings, engine)
    allowed = gate.require(Perm.LIVE)
    reader = LiveReader(settings)
    r = settings.redis
    unavailable = f"live numbers unavailable: Redis at {r.host}:{r.port} does not answer"

    @router.get("/api/live/queues", dependencies=[Depends(allowed)])
    async def queues() -> list[dict[str, Any]]:
        """Each queue's live numbers (see README, "Live numbers and the wallboard")."""
        try:
            return await reader.queues()
        except (RedisError, OSError) as exc:
            raise HTTPException(503, unavailable) from exc

    @router.get("/api/live/queues/{name}", dependencies=[Depends(allowed)])
    async def queue(name: str) -> dict[str, Any]:
        try:
            found = [q for q in await reader.queues() if q["queue"] == name]
        except (RedisError, OSError) as exc:
            raise HTTPException(503, unavailable) from exc
        if not found:
            raise HTTPException(404, f"no live numbers for queue {name!r}")
        return found[0]

    @router.get("/api/live/total", dependencies=[Depends(allowed)])
    async def total() -> dict[str, Any]:
        """The whole hotline, each call counted once."""
        try:
            snap = await reader.total()
        except (RedisError, OSError) as exc:
            raise HTTPException(503, unavailable) from exc
        if snap is None:
            raise HTTPException(404, "no live numbers yet (is the live service running?)")
        return snap

    @router.get("/api/live/agents", dependencies=[Depends(allowed)])
    async def agents() -> list[AgentLive]:
        try:
            return await reader.agents()
        except (RedisError, OSError) as exc:
            raise HTTPException(503, unavailable) from exc

    @router.get("/api/live/emergencies", dependencies=[Depends(allowed)])
    async def emergencies() -> list[dict[str, Any]]:
        """Calls marked as emergency matters in the last hour (the wallboard's red list)."""
        try:
            return await reader.emergencies()
        except (RedisError, OSError) as exc:
            raise HTTPException(503, unavailable) from exc

    @router.websocket("/api/live/ws")
    async def board(websocket: WebSocket) -> None:
        """The wallboard's feed: the whole board every `live.publish_seconds`."""
        if await gate.websocket(websocket, Perm.LIVE) is None:
            return
        await websocket.accept()
        login = Recheck(gate, websocket)
        try:
            while await login.still_valid():
                try:
                    message: dict[str, Any] = await reader.board()
                except (RedisError, OSError):
                    message = {"error": unavailable, "at": datetime.now(UTC).isoformat()}
                await websocket.send_text(json.dumps(message, ensure_ascii=False))
                await asyncio.sleep(settings.live.publish_seconds)
        except (WebSocketDisconnect, RuntimeError):  # the screen went away mid-send
            return

    page = [Depends(gate.page(Perm.LIVE))]

    @router.get("/wallboard", include_in_schema=False, dependencies=page)
    async def wallboard_page() -> FileResponse:
        return FileResponse(PAGE_DIR / "index.html", media_type="text/html")

    @router.get("/wallboard/{name}", include_in_schema=False, dependencies=page)
    async def wallboard_file(name: str) -> FileResponse:
        if name not in PAGE_FILES:
            raise HTTPException(404, "no such file")
        return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name])

    return router
