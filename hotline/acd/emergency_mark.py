"""The emergency button (紧急标记): an agent or a supervisor marks a call as an emergency
(突发) matter. A caller still waiting in a queue goes first (QueueChangePriorityCaller,
the priority of a failed emergency line); supervisors are alerted on the wallboard
(Redis, read by the live API) and by an alarm (MQTT hotline/<tenant>/alarm).

The call is the agent's current call, or the one named by its Linkedid (a waiting
caller seen on the wallboard). Numbers are masked in everything this writes.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.acd import membership
from hotline.acd.errors import ActionError
from hotline.acd.models import AgentAction
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.asterisk.variables import EMERGENCY_PRIORITY
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.masking import mask_number
from hotline.kernel.names import queue_from_asterisk

log = logging.getLogger(__name__)

# How long a mark stays on the wallboard.
SHOWN_SECONDS = 3600


@dataclass(frozen=True)
class CallFound:
    linkedid: str
    channel: str  # the citizen's channel (the call's first: Uniqueid == Linkedid)
    number: str
    agent: str  # "" while the caller waits
    queue: str  # the Asterisk queue the caller waits in, "" when not waiting


@dataclass(frozen=True)
class Mark:
    linkedid: str
    caller: str  # masked
    agent: str
    queue: str  # our queue name, "" when not waiting
    raised: bool  # the caller's priority was raised in the queue
    by: str
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def find_call(
    channels: list[dict[str, str]],
    entries: list[dict[str, str]],
    *,
    agent_id: str = "",
    linkedid: str = "",
) -> CallFound | None:
    """The call from CoreShowChannel and QueueEntry rows: the agent's bridged call,
    or the call with this Linkedid."""
    prefix = membership.interface(agent_id) + "-" if agent_id else ""
    if not linkedid:
        mine = [
            c
            for c in channels
            if prefix and c.get("Channel", "").startswith(prefix) and c.get("BridgeId")
        ]
        if not mine:
            return None
        linkedid = mine[0].get("Linkedid", "")
    legs = [c for c in channels if c.get("Linkedid") == linkedid]
    citizen = next((c for c in legs if c.get("Uniqueid") == linkedid), None)
    if citizen is None:
        return None
    channel = citizen.get("Channel", "")
    queue = next((e.get("Queue", "") for e in entries if e.get("Channel") == channel), "")
    agents = [
        c["Channel"].removeprefix("PJSIP/").rsplit("-", 1)[0]
        for c in legs
        if c is not citizen and c.get("Channel", "").startswith("PJSIP/")
    ]
    agent = agent_id or next((a for a in agents if a != "carrier"), "")
    return CallFound(linkedid, channel, citizen.get("CallerIDNum", ""), agent, queue)


def audit(engine: Engine, settings: AcdConfig, m: Mark, via: str, result: str = "ok") -> None:
    """A row of agent_action (action `emergency`, reason: the call's Linkedid)."""
    with Session(engine) as s:
        s.add(
            AgentAction(
                tenant=settings.tenant,
                at=datetime.now(UTC),
                actor=m.by[:64],
                via=via,
                action="emergency",
                agent=m.agent[:32],
                forced=m.by != m.agent,
                reason=m.linkedid[:32],
                result=result[:200],
            )
        )
        s.commit()


def marks_key(tenant: str) -> str:
    """Sorted set (score: epoch seconds) of JSON marks shown on the wallboard."""
    return f"hotline:{tenant}:emergencies"


async def mark(
    settings: AcdConfig,
    ami: AmiClient,
    redis: Any,
    *,
    by: str,
    agent_id: str = "",
    linkedid: str = "",
) -> Mark:
    channels = _rows(await ami.action({"Action": "CoreShowChannels"}, as_list=True))
    entries = _rows(await ami.action({"Action": "QueueStatus"}, as_list=True))
    found = find_call(
        [c for c in channels if c.get("Event") == "CoreShowChannel"],
        [e for e in entries if e.get("Event") == "QueueEntry"],
        agent_id=agent_id,
        linkedid=linkedid,
    )
    if found is None:
        what = f"agent {agent_id} has no live call" if not linkedid else f"no call {linkedid}"
        raise ActionError(f"{what} now", "no_live_call")
    raised = False
    if found.queue:
        reply = await ami.action(
            {
                "Action": "QueueChangePriorityCaller",
                "Queue": found.queue,
                "Caller": found.channel,
                "Priority": str(EMERGENCY_PRIORITY),
                "Immediate": "yes",
            }
        )
        raised = reply.get("Response") == "Success"
        if not raised:
            log.warning("call %s: priority not raised: %s", found.linkedid, reply.get("Message"))
    result = Mark(
        linkedid=found.linkedid,
        caller=mask_number(found.number),
        agent=found.agent,
        queue=queue_from_asterisk(found.queue),
        raised=raised,
        by=by,
    )
    now = time.time()
    key = marks_key(settings.live_namespace)
    try:
        await redis.zadd(key, {json.dumps(asdict(result), ensure_ascii=False): now})
        await redis.zremrangebyscore(key, 0, now - SHOWN_SECONDS)
    except Exception as exc:  # the alarm below still reaches the supervisors
        log.warning("call %s: emergency mark not on the wallboard (Redis: %s)", found.linkedid, exc)
    where = f"waiting in {result.queue}" if result.queue else f"with agent {result.agent or '-'}"
    await publish(
        settings,
        Alarm(
            kind="emergency_call",
            message=f"突发 call from {result.caller} {where}, marked by {by}",
            linkedid=result.linkedid,
            severity="critical",
        ),
    )
    return result


async def shown(redis: Any, tenant: str) -> list[dict[str, Any]]:
    """The marks of the last hour, newest first, for the wallboard."""
    since = time.time() - SHOWN_SECONDS
    raw = await redis.zrevrangebyscore(marks_key(tenant), "+inf", since)
    return [json.loads(r) for r in raw]


def _rows(reply: Any) -> list[dict[str, str]]:
    if isinstance(reply, list):
        return [{str(k): str(v) for k, v in r.items()} for r in reply]
    return []
