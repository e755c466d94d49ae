"""An agent brings an emergency line (110/119/120/122) into the call: the API's way.

The phone's way is a feature code (*119 …, features.conf); both end in the dialplan's
[hotline-linkage-move]. Here an AMI Originate of the helper leg
Local/<line>@hotline-linkage-api/n carries the agent's and the citizen's channels: the
`originate` privilege the services already have is enough (AMI Redirect would need
write=call, which also allows hanging up any channel). The helper answers once the move
is made, so a refused Originate means nothing happened.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Engine

from hotline.acd import membership
from hotline.acd.errors import ActionError
from hotline.acd.settings import AcdConfig
from hotline.acd.supervision import Actor, _audit, _rows, find_agent
from hotline.asterisk.ami import AmiClient
from hotline.kernel.settings import EMERGENCY_LINES

log = logging.getLogger(__name__)

HELPER_CONTEXT = "hotline-linkage-api"


def check_line(line: str) -> str:
    if line not in EMERGENCY_LINES:
        raise ActionError(
            f"unknown emergency line {line!r}; allowed: {', '.join(EMERGENCY_LINES)}",
            "unknown_line",
            422,
        )
    return line


def queue_call(rows: list[dict[str, str]], agent_id: str) -> tuple[str, str]:
    """(agent's channel, citizen's channel) of the agent's live queue call, else ("", "").

    The citizen's channel is the call's first (Uniqueid = Linkedid), bridged with the
    agent's and still in Queue(): only a citizen's queue call can be moved.
    """
    prefix = membership.interface(agent_id) + "-"
    chans = [r for r in rows if r.get("Event") == "CoreShowChannel"]
    for agent in chans:
        bridge = agent.get("BridgeId", "")
        if not (agent.get("Channel", "").startswith(prefix) and bridge):
            continue
        for citizen in chans:
            if (
                citizen is not agent
                and citizen.get("BridgeId") == bridge
                and citizen.get("Uniqueid") == citizen.get("Linkedid") == agent.get("Linkedid")
                and citizen.get("Application") == "Queue"
            ):
                return agent["Channel"], citizen["Channel"]
    return "", ""


async def bring_in(
    settings: AcdConfig, engine: Engine, ami: AmiClient, actor: Actor, agent_id: str, line: str
) -> str:
    """Move the agent into the call's conference and have the citizen's side dial the line."""
    find_agent(settings, agent_id)
    check_line(line)
    rows = _rows(await ami.action({"Action": "CoreShowChannels"}, as_list=True))
    agent_chan, citizen_chan = queue_call(rows, agent_id)
    if not agent_chan:
        _audit(engine, settings, actor, "emergency", agent_id, reason=line,
               result="refused: no live queue call")  # fmt: skip
        raise ActionError(
            f"agent {agent_id} has no live call with a citizen from a queue now", "no_live_call"
        )
    reply = await ami.action(
        {
            "Action": "Originate",
            "ActionID": f"linkage-{uuid.uuid4().hex[:12]}",
            # /n: no Local optimisation; the helper only runs [hotline-linkage-api]
            "Channel": f"Local/{line}@{HELPER_CONTEXT}/n",
            "Application": "NoOp",
            "Data": f"emergency line {line} for agent {agent_id}",
            "Variable": ",".join(
                [
                    f"HOTLINE_LINKAGE_AGENT={agent_chan}",
                    f"HOTLINE_LINKAGE_CITIZEN={citizen_chan}",
                    f"HOTLINE_LINKAGE_AGENT_ID={agent_id}",
                ]
            ),
            "Timeout": "10000",
        }
    )
    if reply.get("Response") != "Success":
        result = f"refused: {reply.get('Message', '')}"
        _audit(engine, settings, actor, "emergency", agent_id, reason=line, result=result)
        raise ActionError(f"the call could not be moved ({result})", "refused_by_asterisk")
    _audit(engine, settings, actor, "emergency", agent_id, reason=line)
    log.info("%s: agent %s brings emergency line %s into the call", actor.name, agent_id, line)
    return f"emergency line {line}: agent {agent_id} waits in the conference while it rings"
