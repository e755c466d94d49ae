"""The audit log: every write (POST/PUT/PATCH/DELETE) through the API, allowed or refused,
and every login, with who, when, what and the answer's status code.

`AuditWrites` is an ASGI middleware around the whole app, so that no route can forget it;
the gate tells it who the caller was (scope state), a login route tells it the name tried.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.auth.masking import mask_value
from hotline.auth.models import AuditEntry
from hotline.auth.tokens import Principal

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what the gate and the login route leave in the request's state for the audit
PRINCIPAL_KEY = "principal"
ATTEMPT_KEY = "audit_attempt"  # (user name tried, detail) of a login

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def record(engine: Engine, entry: AuditEntry) -> None:
    with Session(engine) as s:
        s.add(entry)
        s.commit()


def entries(
    engine: Engine, *, user: str | None = None, since: datetime | None = None, limit: int = 200
) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if user:
        q = q.where(AuditEntry.user == user)
    if since:
        q = q.where(col(AuditEntry.at) >= since)
    with Session(engine) as s:
        return list(s.exec(q))


def object_id(path_params: dict[str, Any]) -> str:
    """The path's parameters (an agent, an order, a call), a phone number masked."""
    return ",".join(mask_value(str(v)) for v in path_params.values())[:100]


def _clip(text: str, size: int) -> str:
    return re.sub(r"\s+", " ", text)[:size]


class AuditWrites:
    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            entry = self._entry(scope, state, status)
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(record, self.engine, entry)

    def _entry(self, scope: Scope, state: dict[str, Any], status: int) -> AuditEntry:
        who: Principal | None = state.get(PRINCIPAL_KEY)
        tried: tuple[str, str] | None = state.get(ATTEMPT_KEY)
        route = scope.get("route")
        path = getattr(route, "path", None) or "(no route)"
        client = scope.get("client")
        return AuditEntry(
            at=datetime.now(UTC),
            user=who.name if who else _clip(tried[0], 64) if tried else "",
            role=who.role if who else "",
            method=scope["method"],
            path=_clip(path, 200),
            object_id=object_id(scope.get("path_params") or {}),
            status_code=status,
            remote=str(client[0]) if client else "",
            detail=_clip(tried[1], 200) if tried else "",
        )
