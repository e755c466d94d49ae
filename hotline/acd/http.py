"""Routes of acd: agents' states and supervisor actions; with them the agent page's
routes (acd/agent_page.py) and the live numbers' and wallboard's (acd/live_api.py).

Reading states needs a login; an agent changes their own state, a supervisor anyone's
and may listen, whisper, barge (auth/roles.py). Every change is audited with the
token's user as the actor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from hotline.acd import agent_page, emergency_mark, live_api
from hotline.acd.agent_service import read_agents
from hotline.acd.agent_state import PAUSE_REASONS
from hotline.acd.errors import ActionError
from hotline.acd.linkage import bring_in, check_line
from hotline.acd.membership import ami_session
from hotline.acd.settings import AcdConfig
from hotline.acd.supervision import (
    Actor,
    SpyMode,
    audit_trail,
    change_state,
    check_spy,
    check_state_change,
    find_agent,
    spy,
)
from hotline.asterisk.ami import AmiClient
from hotline.auth import gate
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal as User
from hotline.kernel.redis_conn import redis_client
from hotline.kernel.web import EngineDep, settings_of

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[AcdConfig, Depends(settings_of)]


class AgentOut(BaseModel):
    agent: str
    state: str
    since: datetime
    reason: str
    queues: list[str]
    calls_handled: int


class PauseIn(BaseModel):
    reason: str = Field(
        description="one of: " + ", ".join(f"{r.code} ({r.title})" for r in PAUSE_REASONS)
    )


class SpyIn(BaseModel):
    supervisor: str = Field(description="the supervisor's phone: an endpoint of `agents`")


class EmergencyIn(BaseModel):
    line: str = Field(description="the emergency line: 110, 119, 120 or 122")


class ActionOut(BaseModel):
    ok: bool
    message: str


class EmergencyOut(BaseModel):
    linkedid: str
    caller: str  # masked
    agent: str
    queue: str  # where the caller waits; "" when not waiting
    raised: bool  # the caller's priority was raised in that queue
    by: str
    at: str


class AuditOut(BaseModel):
    at: datetime
    actor: str
    via: str
    action: str
    agent: str
    forced: bool
    supervisor_ext: str
    reason: str
    result: str


def _error(exc: ActionError) -> HTTPException:
    return HTTPException(exc.status, {"detail": str(exc), "error_id": exc.code})


@contextlib.contextmanager
def _ami_errors() -> Iterator[None]:
    """A refusal as its HTTP error; AMI out of reach as 503 ami_down."""
    try:
        yield
    except ActionError as exc:
        raise _error(exc) from exc
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise HTTPException(
            503, {"detail": f"Asterisk's AMI is unreachable ({exc})", "error_id": "ami_down"}
        ) from exc


def _out(agent_id: str, f: dict[str, str]) -> AgentOut:
    return AgentOut(
        agent=agent_id,
        state=f.get("state", ""),
        since=datetime.fromisoformat(f["since"]),
        reason=f.get("reason", ""),
        queues=[q for q in f.get("queues", "").split(",") if q],
        calls_handled=int(f.get("calls_handled", "0") or 0),
    )


agents = APIRouter(prefix="/api", tags=["agents and supervisors"])
READER = Depends(gate.require(Perm.AGENTS_READ))
USER = Depends(gate.require(Perm.AGENT_CONTROL))
SUPERVISOR = Depends(gate.require(Perm.SUPERVISE))
AUDITING = Depends(gate.require(Perm.ACTIONS_READ))
LINKEDID = PathParam(pattern=r"^[0-9]{1,20}\.[0-9]{1,10}$")


@agents.get("/agents", response_model=list[AgentOut], dependencies=[READER])
async def list_agents(settings: ConfigDep) -> list[AgentOut]:
    return [_out(a, f) for a, f in (await _states(settings)).items()]


@agents.get("/agents/{agent_id}", response_model=AgentOut, dependencies=[READER])
async def one_agent(agent_id: str, settings: ConfigDep) -> AgentOut:
    rows = await _states(settings)
    if agent_id not in rows:
        raise HTTPException(
            404,
            {
                "detail": f"unknown agent {agent_id!r}; known: {', '.join(rows) or 'none'}",
                "error_id": "unknown_agent",
            },
        )
    return _out(agent_id, rows[agent_id])


@agents.post("/agents/{agent_id}/login", response_model=ActionOut)
async def agent_login(
    agent_id: str, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> ActionOut:
    return await _change_state(settings, engine, u, "login", agent_id)


@agents.post("/agents/{agent_id}/logout", response_model=ActionOut)
async def agent_logout(
    agent_id: str, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> ActionOut:
    return await _change_state(settings, engine, u, "logout", agent_id)


@agents.post("/agents/{agent_id}/unpause", response_model=ActionOut)
async def agent_unpause(
    agent_id: str, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> ActionOut:
    return await _change_state(settings, engine, u, "unpause", agent_id)


@agents.post("/agents/{agent_id}/pause", response_model=ActionOut)
async def pause(
    agent_id: str, body: PauseIn, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> ActionOut:
    return await _change_state(settings, engine, u, "pause", agent_id, body.reason)


@agents.post("/agents/{agent_id}/listen", response_model=ActionOut)
async def agent_listen(
    agent_id: str, body: SpyIn, settings: ConfigDep, engine: EngineDep, u: User = SUPERVISOR
) -> ActionOut:
    return await _spy(settings, engine, u, SpyMode.LISTEN, agent_id, body.supervisor)


@agents.post("/agents/{agent_id}/whisper", response_model=ActionOut)
async def agent_whisper(
    agent_id: str, body: SpyIn, settings: ConfigDep, engine: EngineDep, u: User = SUPERVISOR
) -> ActionOut:
    return await _spy(settings, engine, u, SpyMode.WHISPER, agent_id, body.supervisor)


@agents.post("/agents/{agent_id}/barge", response_model=ActionOut)
async def agent_barge(
    agent_id: str, body: SpyIn, settings: ConfigDep, engine: EngineDep, u: User = SUPERVISOR
) -> ActionOut:
    return await _spy(settings, engine, u, SpyMode.BARGE, agent_id, body.supervisor)


@agents.post("/agents/{agent_id}/emergency-mark", response_model=EmergencyOut)
async def agent_emergency(
    agent_id: str, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> EmergencyOut:
    """紧急标记: the agent's current call is an emergency matter (alerts supervisors)."""
    _may_change(u, agent_id)
    try:
        find_agent(settings, agent_id)
    except ActionError as exc:
        raise _error(exc) from exc
    return await _mark_emergency(settings, engine, u.name, agent_id=agent_id)


@agents.post("/calls/{linkedid}/emergency", response_model=EmergencyOut)
async def call_emergency(
    settings: ConfigDep, engine: EngineDep, linkedid: str = LINKEDID, u: User = USER
) -> EmergencyOut:
    """紧急标记 for a call by its id (a waiting caller goes first in the queue)."""
    return await _mark_emergency(settings, engine, u.name, linkedid=linkedid)


@agents.post("/agents/{agent_id}/emergency", response_model=ActionOut)
async def emergency(
    agent_id: str, body: EmergencyIn, settings: ConfigDep, engine: EngineDep, u: User = USER
) -> ActionOut:
    """Bring an emergency line into the agent's call (三方通话), as the phone's *119 does."""
    actor = _may_change(u, agent_id)
    return await _with_ami(
        settings,
        lambda: (find_agent(settings, agent_id), check_line(body.line)),
        lambda ami: bring_in(settings, engine, ami, actor, agent_id, body.line),
    )


@agents.get("/agent-actions", response_model=list[AuditOut])
def audit(
    engine: EngineDep,
    agent: str | None = None,
    limit: int = Query(200, ge=1, le=10_000),
    _: User = AUDITING,
) -> list[AuditOut]:
    return [AuditOut.model_validate(a.model_dump()) for a in audit_trail(engine, agent, limit)]


def _may_change(u: User, agent_id: str) -> Actor:
    """The actor, if `u` is that agent or a supervisor; 403 otherwise."""
    if u.role == Role.SUPERVISOR or (u.role == Role.AGENT and u.agent_id == agent_id):
        return Actor(u.name, "api", u.agent_id if u.role == "agent" else "")
    raise HTTPException(403, f"only agent {agent_id} themself or a supervisor may do this")


async def _with_ami(
    settings: AcdConfig, check: Callable[[], object], act: Callable[[AmiClient], Awaitable[str]]
) -> ActionOut:
    """`check` first (refused: its HTTP error), then `act` on a fresh AMI session."""
    try:
        check()
    except ActionError as exc:
        raise _error(exc) from exc
    with _ami_errors():
        async with ami_session(settings) as ami:
            return ActionOut(ok=True, message=await act(ami))


async def _change_state(
    settings: AcdConfig, engine: Engine, u: User, action: str, agent_id: str, reason: str = ""
) -> ActionOut:
    """Log in, log out, pause or unpause an agent, as that agent or a supervisor."""
    actor = _may_change(u, agent_id)
    return await _with_ami(
        settings,
        lambda: check_state_change(settings, action, agent_id, reason),
        lambda ami: change_state(settings, engine, ami, actor, action, agent_id, reason),
    )


async def _spy(
    settings: AcdConfig, engine: Engine, u: User, mode: SpyMode, agent_id: str, phone: str
) -> ActionOut:
    """A supervisor listens to, whispers to or barges into an agent's call from `phone`."""
    actor = Actor(u.name, "api")
    return await _with_ami(
        settings,
        lambda: check_spy(settings, agent_id, phone),
        lambda ami: spy(settings, engine, ami, actor, mode, agent_id, phone),
    )


async def _states(settings: AcdConfig) -> dict[str, dict[str, str]]:
    """Every agent's state as the acd service keeps it in Redis; 503 redis_down."""
    r = redis_client(settings)
    try:
        return await read_agents(r, settings.live_namespace)
    except Exception as exc:
        raise HTTPException(
            503, {"detail": f"Redis is unreachable ({exc})", "error_id": "redis_down"}
        ) from exc
    finally:
        await r.aclose()


async def _mark_emergency(
    settings: AcdConfig, engine: Engine, by: str, agent_id: str = "", linkedid: str = ""
) -> EmergencyOut:
    r = redis_client(settings)
    try:
        with _ami_errors():
            async with ami_session(settings) as ami:
                m = await emergency_mark.mark(
                    settings, ami, r, by=by, agent_id=agent_id, linkedid=linkedid
                )
    finally:
        await r.aclose()
    emergency_mark.audit(engine, settings, m, "api")
    return EmergencyOut(**asdict(m))


# the package's routes (app/api.py includes this one), each group under its own tag
router = APIRouter()
router.include_router(agents)
router.include_router(live_api.router)
router.include_router(agent_page.router)
