"""What a person does to an agent, for the API and the CLI alike, each action audited.

Log in, log out, pause (with a reason), unpause; and from a supervisor's phone listen
(监听), whisper (耳语: only the agent hears the supervisor) and barge (强插: three-way),
by AMI Originate of the supervisor's endpoint into ChanSpy on the agent's channel.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.acd import agents as agent_store
from hotline.acd import membership
from hotline.acd.agent_state import pause_reason
from hotline.acd.errors import ActionError, AmiRefused
from hotline.acd.models import AgentAction
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.kernel.db import utcnow

log = logging.getLogger(__name__)


class SpyMode(StrEnum):
    LISTEN = "listen"  # 监听
    WHISPER = "whisper"  # 耳语
    BARGE = "barge"  # 强插


# ChanSpy options: q no beep or name announcement to the supervisor, E stop when the
# agent's channel hangs up; w whisper, B barge (both parties hear the supervisor).
CHANSPY_OPTIONS = {SpyMode.LISTEN: "qE", SpyMode.WHISPER: "qEw", SpyMode.BARGE: "qEB"}

STATE_ACTIONS = ("login", "logout", "pause", "unpause")
ALL_ACTIONS = (*STATE_ACTIONS, *(m.value for m in SpyMode))


@dataclass(frozen=True)
class Actor:
    name: str
    via: str  # api, cli
    agent_id: str = ""  # set when the actor is an agent acting on themself


def find_agent(settings: AcdConfig, agent_id: str) -> agent_store.Agent:
    try:
        return agent_store.find(settings, agent_id)
    except KeyError:
        known = ", ".join(a.id for a in agent_store.all_agents(settings)) or "none"
        raise ActionError(
            f"unknown agent {agent_id!r}; known agents: {known}", "unknown_agent", 404
        ) from None


def _audit(
    engine: Engine,
    settings: AcdConfig,
    actor: Actor,
    action: str,
    agent_id: str,
    *,
    supervisor_ext: str = "",
    reason: str = "",
    result: str = "ok",
) -> None:
    with Session(engine) as s:
        s.add(
            AgentAction(
                tenant=settings.tenant,
                at=utcnow(),
                actor=actor.name[:64],
                via=actor.via,
                action=action,
                agent=agent_id,
                forced=actor.agent_id != agent_id,
                supervisor_ext=supervisor_ext,
                reason=reason,
                result=result[:200],
            )
        )
        s.commit()


def check_state_change(
    settings: AcdConfig, action: str, agent_id: str, reason: str = ""
) -> tuple[agent_store.Agent, str]:
    """The agent and the pause reason's code; refused before anything reaches Asterisk."""
    if action not in STATE_ACTIONS:
        raise ActionError(
            f"unknown action {action!r}; allowed: {', '.join(STATE_ACTIONS)}", "unknown_action"
        )
    agent = find_agent(settings, agent_id)
    if action != "pause":
        return agent, ""
    try:
        return agent, pause_reason(reason).code
    except ValueError as exc:
        raise ActionError(str(exc), "unknown_reason", 422) from exc


def check_spy(settings: AcdConfig, agent_id: str, supervisor_ext: str) -> None:
    find_agent(settings, agent_id)
    try:
        agent_store.find(settings, supervisor_ext)
    except KeyError:
        known = ", ".join(a.id for a in agent_store.all_agents(settings))
        raise ActionError(
            f"unknown supervisor phone {supervisor_ext!r}: it must be an endpoint of `agents` "
            f"(hotline/config/hotline.yaml or `hotline agent add`); known: {known}",
            "unknown_supervisor",
            404,
        ) from None
    if supervisor_ext == agent_id:
        raise ActionError("a supervisor cannot listen to their own phone", "same_phone", 422)


async def change_state(
    settings: AcdConfig,
    engine: Engine,
    ami: AmiClient,
    actor: Actor,
    action: str,
    agent_id: str,
    reason: str = "",
) -> str:
    """login, logout, pause (reason: a code or its digit) or unpause; a line for people."""
    agent, code = check_state_change(settings, action, agent_id, reason)
    try:
        if action == "login":
            done = f"logged in to {','.join(await membership.login(ami, agent))}"
        elif action == "logout":
            await membership.logout(ami, agent, settings.queue_names())
            done = "logged out"
        elif action == "pause":
            await membership.pause(ami, agent, pause_reason(code))
            done = f"paused ({code} {pause_reason(code).title})"
        else:
            await membership.pause(ami, agent, None)
            done = "unpaused"
    except AmiRefused as exc:
        _audit(engine, settings, actor, action, agent_id, reason=code, result=f"refused: {exc}")
        raise ActionError(str(exc), "refused_by_asterisk") from exc
    _audit(engine, settings, actor, action, agent_id, reason=code)
    log.info("agent %s %s by %s (%s)", agent_id, done, actor.name, actor.via)
    return f"agent {agent_id} {done}"


def _rows(reply: Any) -> list[dict[str, str]]:
    if isinstance(reply, list):
        return [{str(k): str(v) for k, v in r.items()} for r in reply]
    return []


async def live_channel(ami: AmiClient, agent_id: str) -> str:
    """The agent's channel in a call (PJSIP/<id>-…, up and bridged), else ""."""
    rows = _rows(await ami.action({"Action": "CoreShowChannels"}, as_list=True))
    prefix = membership.interface(agent_id) + "-"
    for r in rows:
        if (
            r.get("Event") == "CoreShowChannel"
            and r.get("Channel", "").startswith(prefix)
            and r.get("ChannelStateDesc") == "Up"
            and r.get("BridgeId")
        ):
            return r["Channel"]
    return ""


async def spy(
    settings: AcdConfig,
    engine: Engine,
    ami: AmiClient,
    actor: Actor,
    mode: SpyMode,
    agent_id: str,
    supervisor_ext: str,
) -> str:
    """Ring the supervisor's phone; on answer it joins the agent's live call."""
    check_spy(settings, agent_id, supervisor_ext)
    channel = await live_channel(ami, agent_id)
    if not channel:
        _audit(
            engine,
            settings,
            actor,
            mode.value,
            agent_id,
            supervisor_ext=supervisor_ext,
            result="refused: no live call",
        )
        raise ActionError(f"agent {agent_id} has no live call now", "no_live_call")
    titles = {SpyMode.LISTEN: "监听", SpyMode.WHISPER: "耳语", SpyMode.BARGE: "强插"}
    reply = await ami.action(
        {
            "Action": "Originate",
            "ActionID": f"spy-{uuid.uuid4().hex[:12]}",
            "Channel": membership.interface(supervisor_ext),
            "Application": "ChanSpy",
            # the trailing "-" keeps PJSIP/1001 from also matching PJSIP/10010
            "Data": f"{membership.interface(agent_id)}-,{CHANSPY_OPTIONS[mode]}",
            "CallerID": f'"{titles[mode]} {agent_id}" <{agent_id}>',
            "Timeout": "30000",
            "Async": "true",
        }
    )
    if reply.get("Response") != "Success":
        result = f"refused: {reply.get('Message', '')}"
        _audit(
            engine,
            settings,
            actor,
            mode.value,
            agent_id,
            supervisor_ext=supervisor_ext,
            result=result,
        )
        raise ActionError(f"Originate {result}", "refused_by_asterisk")
    _audit(engine, settings, actor, mode.value, agent_id, supervisor_ext=supervisor_ext)
    log.info("%s: %s on agent %s from phone %s", actor.name, mode.value, agent_id, supervisor_ext)
    return f"{mode.value}: ringing phone {supervisor_ext} to join agent {agent_id}'s call"


def audit_trail(engine: Engine, agent_id: str | None = None, limit: int = 200) -> list[AgentAction]:
    with Session(engine) as s:
        q = select(AgentAction).order_by(col(AgentAction.id).desc()).limit(limit)
        if agent_id:
            q = q.where(AgentAction.agent == agent_id)
        return list(s.exec(q))
