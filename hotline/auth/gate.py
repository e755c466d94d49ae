"""The one dependency every route uses: who is calling, and may their role do this?

A token comes as `Authorization: Bearer …` (API clients) or in the login page's cookie
(HttpOnly, SameSite=Strict: the agent page, the wallboard and their WebSockets).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
from fastapi import HTTPException, WebSocket
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection

from hotline.auth import tokens
from hotline.auth.audit import PRINCIPAL_KEY
from hotline.auth.errors import TokenRefused
from hotline.auth.masking import sees_full_numbers
from hotline.auth.roles import Perm, allowed, roles_with
from hotline.auth.settings import AuthConfig
from hotline.auth.tokens import Principal
from hotline.kernel.web import engine_of

SESSION_COOKIE = "hotline_session"
# WebSocket close codes (4000-4999 are the application's own)
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
# how often a long-lived WebSocket asks whether its login still holds
RECHECK_SECONDS = 60.0


def token_of(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.cookies.get(SESSION_COOKIE, "")


def _same_origin(conn: HTTPConnection) -> bool:
    """A browser's WebSocket from another site carries our cookie only if SameSite fails;
    refuse it anyway when its Origin is not this host."""
    origin = conn.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == conn.headers.get("host", "")


class Requirement:
    """A FastAPI dependency: the caller's Principal, if their role has `perm` (None: any).

    401 without a valid token, 403 when the role lacks the permission; pages (`page=True`)
    send a browser without a token to the login page instead. The token is looked up in
    the app's database (kernel/web.py, engine_of).
    """

    def __init__(self, perm: Perm | None, page: bool = False) -> None:
        self.perm = perm
        self.page = page

    def __call__(self, request: HTTPConnection) -> Principal:
        try:
            who = principal(engine_of(request), token_of(request))
        except TokenRefused as exc:
            if self.page:
                query = f"?{request.url.query}" if request.url.query else ""
                target = quote(request.url.path + query, safe="/?=&")
                raise HTTPException(303, str(exc), {"Location": f"/login?next={target}"}) from exc
            raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from exc
        setattr(request.state, PRINCIPAL_KEY, who)
        if self.perm is not None:
            check(who, self.perm)
        return who


def principal(engine: Engine, token: str) -> Principal:
    with Session(engine) as s:
        return tokens.resolve(s, token)


def require(perm: Perm) -> Requirement:
    return Requirement(perm)


def anyone() -> Requirement:
    """Any logged-in user, whatever the role (log out, who am I)."""
    return Requirement(None)


def page(perm: Perm | None) -> Requirement:
    return Requirement(perm, page=True)


def check(who: Principal, perm: Perm) -> None:
    if not allowed(who.role, perm):
        raise HTTPException(
            403,
            f"role {who.role} may not do this ({perm.value}); "
            f"allowed: {', '.join(roles_with(perm))}",
        )


def caller_search(settings: AuthConfig, who: Principal, caller: str | None) -> None:
    """Refuse a search by a caller's number to a role that sees numbers masked."""
    if caller and not sees_full_numbers(settings, who):
        raise HTTPException(403, f"role {who.role} may not search by a caller's number")


async def websocket_user(websocket: WebSocket, perm: Perm) -> Principal | None:
    """The caller of a WebSocket, or None after closing it with 4401/4403 and why.

    Accepted first: a close before the handshake reaches a browser as a bare 1006.
    """
    reason, code = "", CLOSE_UNAUTHORISED
    who: Principal | None = None
    if not _same_origin(websocket):
        reason, code = "cross-site WebSocket refused", CLOSE_FORBIDDEN
    else:
        try:
            who = await _in_thread(principal, engine_of(websocket), token_of(websocket))
        except TokenRefused as exc:
            reason = str(exc)
        else:
            if not allowed(who.role, perm):
                reason, code = f"role {who.role} may not ({perm.value})", CLOSE_FORBIDDEN
    if reason:
        await websocket.accept()
        await websocket.close(code=code, reason=reason[:120])
        return None
    return who


class Recheck:
    """A WebSocket outlives its login: ask again now and then (`every` seconds) whether
    the token still holds (not expired, logged out or disabled): RECHECK_SECONDS."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.every = RECHECK_SECONDS
        self.next = time.monotonic() + self.every

    async def still_valid(self) -> bool:
        """False after closing the socket with 4401 and why."""
        if time.monotonic() < self.next:
            return True
        self.next = time.monotonic() + self.every
        try:
            await _in_thread(principal, engine_of(self.websocket), token_of(self.websocket))
        except TokenRefused as exc:
            await self.websocket.close(code=CLOSE_UNAUTHORISED, reason=str(exc)[:120])
            return False
        return True


async def _in_thread(fn: Any, *args: Any) -> Principal:
    result: Principal = await anyio.to_thread.run_sync(fn, *args)
    return result
