"""Agents in and out of their queues, paused and unpaused, over AMI.

QueueAdd / QueueRemove / QueuePause act on app_queue, whose events then move the
agent's state (acd/agent_service.py); nothing here writes the state itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from hotline.acd.agent_state import PauseReason
from hotline.acd.agents import Agent
from hotline.acd.errors import AmiRefused
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.kernel.names import asterisk_queue


@asynccontextmanager
async def ami_session(settings: AcdConfig, timeout: float = 10) -> AsyncIterator[AmiClient]:
    """A short-lived, logged-in AMI connection (for the CLI and the API)."""
    ami = AmiClient(settings.ami, queue_size=1000)
    await ami.connect()
    try:
        await ami.wait_logged_in(timeout)
        yield ami
    finally:
        ami.close()


def interface(agent_id: str) -> str:
    return f"PJSIP/{agent_id}"


def _ok(reply: Mapping[str, Any], *accepted: str) -> bool:
    message = str(reply.get("Message", ""))
    return reply.get("Response") == "Success" or any(a in message for a in accepted)


async def login(ami: AmiClient, agent: Agent) -> list[str]:
    """Into the queues of the agent's skills and general; already there is fine."""
    for queue in agent.queues:
        reply = await ami.action(
            {
                "Action": "QueueAdd",
                "Queue": asterisk_queue(queue),
                "Interface": interface(agent.id),
                "MemberName": agent.id,
                "StateInterface": interface(agent.id),
                "Penalty": str(agent.penalty(queue)),
            }
        )
        if not _ok(reply, "Already there"):
            raise AmiRefused(f"QueueAdd {queue}: {reply.get('Message', '')}")
    return list(agent.queues)


async def logout(ami: AmiClient, agent: Agent, queues: list[str]) -> list[str]:
    """Out of every given queue (all queues, so that an old skill leaves no membership)."""
    for queue in queues:
        reply = await ami.action(
            {
                "Action": "QueueRemove",
                "Queue": asterisk_queue(queue),
                "Interface": interface(agent.id),
            }
        )
        if not _ok(reply, "Not there", "not found"):
            raise AmiRefused(f"QueueRemove {queue}: {reply.get('Message', '')}")
    return queues


async def pause(ami: AmiClient, agent: Agent, reason: PauseReason | None) -> None:
    """Pause in every queue with a reason code, or unpause (reason None)."""
    action = {"Action": "QueuePause", "Interface": interface(agent.id), "Paused": "true"}
    if reason is None:
        action["Paused"] = "false"
    else:
        action["Reason"] = reason.code
    reply = await ami.action(action)
    if not _ok(reply):
        raise AmiRefused(
            f"agent {agent.id} is not logged in ({reply.get('Message', '')})"
            if "not found" in str(reply.get("Message", "")).lower()
            else f"QueuePause: {reply.get('Message', '')}"
        )
