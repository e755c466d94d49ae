"""HTTP API for agents' states and supervisor actions.

Reading states needs a login; an agent changes their own state, a supervisor anyone's
and may listen, whisper, barge (auth/roles.py). Every change is audited with the
token's user as the actor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from hotline.acd.agent_state import PAUSE_REASONS
from hotline.acd.supervision import ActionError, Actor, SpyMode
from hotline.asterisk.ami import AmiClient
from hotline.auth.gate import Gate
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal as User
from hotline.config.settings import Settings


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
    return HTTPException(exc.status, {"detail": str(exc), "error_id": exc.error_id})


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


def agents_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["agents and supervisors"])
    gate = Gate(settings, engine)
    user = gate.require(Perm.AGENT_CONTROL)
    supervisor = gate.require(Perm.SUPERVISE)
    reader = Depends(gate.require(Perm.AGENTS_READ))

    def may_change(u: User, agent_id: str) -> Actor:
        if u.role == Role.SUPERVISOR or (u.role == Role.AGENT and u.agent_id == agent_id):
            return Actor(u.name, "api", u.agent_id if u.role == "agent" else "")
        raise HTTPException(403, f"only agent {agent_id} themself or a supervisor may do this")

    async def with_ami(
        check: Callable[[], object], act: Callable[[AmiClient], Awaitable[str]]
    ) -> ActionOut:
        from hotline.acd.membership import ami_session

        try:
            check()
        except ActionError as exc:
            raise _error(exc) from exc
        with _ami_errors():
            async with ami_session(settings) as ami:
                return ActionOut(ok=True, message=await act(ami))

    async def states() -> dict[str, dict[str, str]]:
        from hotline.acd.agent_service import read_agents
        from hotline.kernel.redis_conn import redis_client

        r = redis_client(settings)
        try:
            return await read_agents(r, settings.live_namespace)
        except Exception as exc:
            raise HTTPException(
                503, {"detail": f"Redis is unreachable ({exc})", "error_id": "redis_down"}
            ) from exc
        finally:
            await r.aclose()

    @router.get("/agents", response_model=list[AgentOut], dependencies=[reader])
    async def list_agents() -> list[AgentOut]:
        return [_out(a, f) for a, f in (await states()).items()]

    @router.get("/agents/{agent_id}", response_model=AgentOut, dependencies=[reader])
    async def one_agent(agent_id: str) -> AgentOut:
        rows = await states()
        if agent_id not in rows:
            raise HTTPException(
                404,
                {
                    "detail": f"unknown agent {agent_id!r}; known: {', '.join(rows) or 'none'}",
                    "error_id": "unknown_agent",
                },
            )
        return _out(agent_id, rows[agent_id])

    def state_route(action: str) -> None:
        async def change(agent_id: str, u: User = Depends(user)) -> ActionOut:  # noqa: B008
            from hotline.acd.supervision import change_state, check_state_change

            actor = may_change(u, agent_id)
            return await with_ami(
                lambda: check_state_change(settings, action, agent_id),
                lambda ami: change_state(settings, engine, ami, actor, action, agent_id),
            )

        router.add_api_route(
            f"/agents/{{agent_id}}/{action}",
            change,
            methods=["POST"],
            response_model=ActionOut,
            name=f"agent_{action}",
        )

    for action in ("login", "logout", "unpause"):
        state_route(action)

    @router.post("/agents/{agent_id}/pause", response_model=ActionOut)
    async def pause(agent_id: str, body: PauseIn, u: User = Depends(user)) -> ActionOut:  # noqa: B008
        from hotline.acd.supervision import change_state, check_state_change

        actor = may_change(u, agent_id)
        return await with_ami(
            lambda: check_state_change(settings, "pause", agent_id, body.reason),
            lambda ami: change_state(settings, engine, ami, actor, "pause", agent_id, body.reason),
        )

    def spy_route(mode: SpyMode) -> None:
        async def spy_on(
            agent_id: str,
            body: SpyIn,
            u: User = Depends(supervisor),  # noqa: B008
        ) -> ActionOut:
            from hotline.acd.supervision import check_spy, spy

            actor = Actor(u.name, "api")
            return await with_ami(
                lambda: check_spy(settings, agent_id, body.supervisor),
                lambda ami: spy(settings, engine, ami, actor, mode, agent_id, body.supervisor),
            )

        router.add_api_route(
            f"/agents/{{agent_id}}/{mode.value}",
            spy_on,
            methods=["POST"],
            response_model=ActionOut,
            name=f"agent_{mode.value}",
        )

    for mode in SpyMode:
        spy_route(mode)

    async def mark_emergency(by: str, agent_id: str = "", linkedid: str = "") -> EmergencyOut:
        from hotline.acd.emergency_mark import audit, mark
        from hotline.acd.membership import ami_session
        from hotline.kernel.redis_conn import redis_client

        r = redis_client(settings)
        try:
            with _ami_errors():
                async with ami_session(settings) as ami:
                    m = await mark(settings, ami, r, by=by, agent_id=agent_id, linkedid=linkedid)
        finally:
            await r.aclose()
        audit(engine, settings, m, "api")
        return EmergencyOut(**asdict(m))

    @router.post("/agents/{agent_id}/emergency-mark", response_model=EmergencyOut)
    async def agent_emergency(agent_id: str, u: User = Depends(user)) -> EmergencyOut:  # noqa: B008
        """紧急标记: the agent's current call is an emergency matter (alerts supervisors)."""
        from hotline.acd.supervision import find_agent

        may_change(u, agent_id)
        try:
            find_agent(settings, agent_id)
        except ActionError as exc:
            raise _error(exc) from exc
        return await mark_emergency(u.name, agent_id=agent_id)

    @router.post("/calls/{linkedid}/emergency", response_model=EmergencyOut)
    async def call_emergency(
        linkedid: str = PathParam(pattern=r"^[0-9]{1,20}\.[0-9]{1,10}$"),
        u: User = Depends(user),  # noqa: B008
    ) -> EmergencyOut:
        """紧急标记 for a call by its id (a waiting caller goes first in the queue)."""
        return await mark_emergency(u.name, linkedid=linkedid)

    @router.post("/agents/{agent_id}/emergency", response_model=ActionOut)
    async def emergency(agent_id: str, body: EmergencyIn, u: User = Depends(user)) -> ActionOut:  # noqa: B008
        """Bring an emergency line into the agent's call (三方通话), as the phone's *119 does."""
        from hotline.acd.linkage import bring_in, check_line
        from hotline.acd.supervision import find_agent

        actor = may_change(u, agent_id)
        return await with_ami(
            lambda: (find_agent(settings, agent_id), check_line(body.line)),
            lambda ami: bring_in(settings, engine, ami, actor, agent_id, body.line),
        )

    @router.get("/agent-actions", response_model=list[AuditOut])
    def audit(
        agent: str | None = None,
        limit: int = Query(200, ge=1, le=10_000),
        _: User = Depends(gate.require(Perm.ACTIONS_READ)),  # noqa: B008
    ) -> list[AuditOut]:
        from hotline.acd.supervision import audit_trail

        return [AuditOut.model_validate(a.model_dump()) for a in audit_trail(engine, agent, limit)]

    return router
