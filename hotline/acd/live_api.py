"""Routes of the live numbers and the wallboard page (included by acd/http.py): read-only,
from Redis (acd/live_service.py, LiveReader).

Needs a login (auth/, permission `live`): a Bearer token, or the login page's cookie
for the wallboard page and its WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from hotline.acd.live_service import AgentLive, LiveReader
from hotline.auth import gate
from hotline.auth.gate import Recheck
from hotline.auth.roles import Perm
from hotline.kernel.web import per_app, settings_of

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parent / "wallboard"
PAGE_FILES = {"wallboard.js": "text/javascript", "wallboard.css": "text/css"}


router = APIRouter(tags=["live numbers"])
ALLOWED = [Depends(gate.require(Perm.LIVE))]
PAGE = [Depends(gate.page(Perm.LIVE))]


def live_reader(conn: HTTPConnection) -> LiveReader:
    """The app's one reader: its Redis connections belong to the app's event loop."""
    return per_app(conn, "live_reader", lambda: LiveReader(settings_of(conn)))


Reader = Annotated[LiveReader, Depends(live_reader)]


@router.get("/api/live/queues", dependencies=ALLOWED)
async def queues(reader: Reader) -> list[dict[str, Any]]:
    """Each queue's live numbers (see README, "Live numbers and the wallboard")."""
    with _redis_errors(reader):
        return await reader.queues()


@router.get("/api/live/queues/{name}", dependencies=ALLOWED)
async def queue(name: str, reader: Reader) -> dict[str, Any]:
    with _redis_errors(reader):
        found = [q for q in await reader.queues() if q["queue"] == name]
    if not found:
        raise HTTPException(404, f"no live numbers for queue {name!r}")
    return found[0]


@router.get("/api/live/total", dependencies=ALLOWED)
async def total(reader: Reader) -> dict[str, Any]:
    """The whole hotline, each call counted once."""
    with _redis_errors(reader):
        snap = await reader.total()
    if snap is None:
        raise HTTPException(404, "no live numbers yet (is the live service running?)")
    return snap


@router.get("/api/live/agents", dependencies=ALLOWED)
async def agents(reader: Reader) -> list[AgentLive]:
    with _redis_errors(reader):
        return await reader.agents()


@router.get("/api/live/emergencies", dependencies=ALLOWED)
async def emergencies(reader: Reader) -> list[dict[str, Any]]:
    """Calls marked as emergency matters in the last hour (the wallboard's red list)."""
    with _redis_errors(reader):
        return await reader.emergencies()


@router.websocket("/api/live/ws")
async def board(websocket: WebSocket) -> None:
    """The wallboard's feed: the whole board every `live.publish_seconds`."""
    if await gate.websocket_user(websocket, Perm.LIVE) is None:
        return
    await websocket.accept()
    reader, every = live_reader(websocket), settings_of(websocket).live.publish_seconds
    login = Recheck(websocket)
    try:
        while await login.still_valid():
            try:
                message: dict[str, Any] = await reader.board()
            except (RedisError, OSError):
                message = {"error": _unavailable(reader), "at": datetime.now(UTC).isoformat()}
            await websocket.send_text(json.dumps(message, ensure_ascii=False))
            await asyncio.sleep(every)
    except (WebSocketDisconnect, RuntimeError):  # the screen went away mid-send
        return


@router.get("/wallboard", include_in_schema=False, dependencies=PAGE)
async def wallboard_page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html")


@router.get("/wallboard/{name}", include_in_schema=False, dependencies=PAGE)
async def wallboard_file(name: str) -> FileResponse:
    if name not in PAGE_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(PAGE_DIR / name, media_type=PAGE_FILES[name])


def _unavailable(reader: LiveReader) -> str:
    r = reader.settings.redis
    return f"live numbers unavailable: Redis at {r.host}:{r.port} does not answer"


@contextlib.contextmanager
def _redis_errors(reader: LiveReader) -> Iterator[None]:
    """Redis out of reach as 503, naming where it was looked for."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise HTTPException(503, _unavailable(reader)) from exc
