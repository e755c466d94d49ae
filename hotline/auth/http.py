"""Routes of auth: log in and out (API and the login page), the audit log, users (admin)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.auth import audit, gate, passwords, tokens, users
from hotline.auth.audit import ATTEMPT_KEY
from hotline.auth.errors import LoginRefused, UserError
from hotline.auth.gate import SESSION_COOKIE, token_of
from hotline.auth.models import User
from hotline.auth.roles import MATRIX, Perm, Role
from hotline.auth.settings import AuthConfig
from hotline.auth.tokens import Principal
from hotline.kernel.web import EngineDep, settings_of

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[AuthConfig, Depends(settings_of)]

PAGE = Path(__file__).resolve().parent / "login.html"


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105
    expires_at: datetime
    user: str
    role: str
    agent_id: str
    unit: str


class MeOut(BaseModel):
    user: str
    role: str
    agent_id: str
    unit: str
    may: list[str]  # the permissions of the role (auth/roles.py)


class AuditOut(BaseModel):
    at: datetime
    user: str
    role: str
    method: str
    path: str
    object_id: str
    status_code: int
    remote: str
    detail: str


class UserOut(BaseModel):
    name: str
    role: str
    agent_id: str
    unit: str
    disabled: bool
    created_at: datetime
    locked_until: datetime | None


class UserIn(BaseModel):
    name: str
    role: str
    password: str = Field(min_length=passwords.MIN_LENGTH, max_length=200)
    agent_id: str = ""
    unit: str = ""


class PasswordIn(BaseModel):
    password: str = Field(min_length=passwords.MIN_LENGTH, max_length=200)


def _user_out(u: User) -> UserOut:
    return UserOut.model_validate(u, from_attributes=True)


router = APIRouter(tags=["login and audit"])
ANYONE = Depends(gate.anyone())
ADMIN = Depends(gate.require(Perm.USERS))
AUDITING = Depends(gate.require(Perm.AUDIT_READ))


@router.post("/api/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, settings: ConfigDep, engine: EngineDep) -> Response:
    """Name and password → a bearer token for the shift (`auth.token_hours`); the same
    token is set as the pages' cookie (HttpOnly, SameSite=Strict)."""
    setattr(request.state, ATTEMPT_KEY, (body.name, "login"))
    with Session(engine) as s:
        try:
            done = users.login(s, body.name, body.password, settings.auth)
        except LoginRefused as exc:
            s.commit()  # the failure counts towards the lock
            setattr(request.state, ATTEMPT_KEY, (body.name, f"login refused: {exc}"))
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            raise HTTPException(exc.status, str(exc), headers) from exc
        s.commit()
        out = _login_out(done)
    response = JSONResponse(out.model_dump(mode="json"))
    _set_session_cookie(response, done, settings)
    return response


@router.post("/api/logout", status_code=204)
def logout(request: Request, engine: EngineDep, _: Principal = ANYONE) -> Response:
    with Session(engine) as s:
        tokens.revoke(s, token_of(request))
        s.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/api/me", response_model=MeOut)
def me(who: Principal = ANYONE) -> MeOut:
    perms = sorted(p.value for p in MATRIX[Role(who.role)])
    return MeOut(user=who.name, role=who.role, agent_id=who.agent_id, unit=who.unit, may=perms)


@router.get("/login", include_in_schema=False)
def login_page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html")


@router.get("/api/audit", response_model=list[AuditOut])
def audit_log(
    engine: EngineDep,
    user: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO time with zone")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    _: Principal = AUDITING,
) -> list[AuditOut]:
    """Every write through the API, allowed or refused, and every login; newest first."""
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, "since needs a time zone, e.g. 2026-11-25T08:00:00+08:00")
    rows = audit.entries(engine, user=user, since=since, limit=limit)
    return [AuditOut.model_validate(r.model_dump()) for r in rows]


@router.get("/api/users", response_model=list[UserOut])
def list_users(engine: EngineDep, _: Principal = ADMIN) -> list[UserOut]:
    with Session(engine) as s:
        return [_user_out(u) for u in users.all_users(s)]


@router.post("/api/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, request: Request, engine: EngineDep, _: Principal = ADMIN) -> UserOut:
    with Session(engine) as s:
        try:
            u = users.add(
                s,
                body.name,
                body.role,
                body.password,
                agent_id=body.agent_id,
                unit=body.unit,
                unit_problem=getattr(request.app.state, "unit_problem", None),
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        s.commit()
        return _user_out(u)


@router.post("/api/users/{name}/disable", response_model=UserOut)
def disable(name: str, engine: EngineDep, _: Principal = ADMIN) -> UserOut:
    return _change(engine, lambda s: users.set_disabled(s, name, True))


@router.post("/api/users/{name}/enable", response_model=UserOut)
def enable(name: str, engine: EngineDep, _: Principal = ADMIN) -> UserOut:
    return _change(engine, lambda s: users.set_disabled(s, name, False))


@router.post("/api/users/{name}/password", response_model=UserOut)
def reset_password(name: str, body: PasswordIn, engine: EngineDep, _: Principal = ADMIN) -> UserOut:
    return _change(engine, lambda s: users.set_password(s, name, body.password))


def _login_out(done: users.Login) -> LoginOut:
    return LoginOut(
        token=done.token,
        expires_at=done.expires_at,
        user=done.user.name,
        role=done.user.role,
        agent_id=done.user.agent_id,
        unit=done.user.unit,
    )


def _set_session_cookie(response: Response, done: users.Login, settings: AuthConfig) -> None:
    """The token as the pages' cookie, for as long as the token holds."""
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        max_age=int((done.expires_at - datetime.now(UTC)).total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.auth.cookie_secure,
        path="/",
    )


def _change(engine: Engine, fn: Callable[[Session], User]) -> UserOut:
    """A change to one user: 404 for an unknown name, 422 for a refused value."""
    with Session(engine) as s:
        try:
            u = fn(s)
        except UserError as exc:
            status = 404 if str(exc).startswith("no user") else 422
            raise HTTPException(status, str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        s.commit()
        return _user_out(u)
