"""The outbound revisit call (人工回访, art. 27.3) through the real Asterisk.

AMI Originate rings the agent's phone first; when the agent answers, Dial() calls the
citizen out through the carrier trunk. The outcome comes from the events:
OriginateResponse (did the agent answer) and DialEnd (did the citizen: ANSWER, NOANSWER,
BUSY, …). Needs `originate` in the AMI user's write= line
(hotline/asterisk/templates/manager.conf.j2).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.acd.agents import find
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.kernel.masking import mask_number
from hotline.workorders.models import RevisitTask
from hotline.workorders.revisits import record_result
from hotline.workorders.rules import RevisitRules, load_rules

log = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"^\+?[0-9]{3,20}$")
DIAL_RESULTS = {"ANSWER": "reached", "NOANSWER": "no_answer", "BUSY": "busy"}


@dataclass(frozen=True)
class CallOutcome:
    result: str  # reached | no_answer | busy | failed
    linkedid: str  # the revisit call's Linkedid ("" when the agent never answered)
    detail: str


def citizen_dial_string(rules: RevisitRules, number: str) -> str:
    """The Dial() target for the citizen; the number must be digits only (no injection)."""
    if not NUMBER_RE.match(number):
        raise ValueError(f"cannot call {mask_number(number)!r}: not a phone number")
    return rules.citizen_dial.format(number=number)


async def place_call(
    ami: AmiClient, rules: RevisitRules, *, agent_endpoint: str, citizen_number: str, task_id: int
) -> CallOutcome:
    action_id = f"revisit-{task_id}-{uuid.uuid4().hex[:8]}"
    target = citizen_dial_string(rules, citizen_number)
    options = f"S({rules.max_talk_seconds})" if rules.max_talk_seconds else ""
    reply: Any = await ami.action(
        {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": agent_endpoint,
            "Application": "Dial",
            "Data": f"{target},{rules.ring_seconds},{options}",
            "CallerID": f'"{rules.caller_id_name}" <{rules.caller_id_number}>',
            "Timeout": str(rules.agent_answer_seconds * 1000),
            "Variable": f"HOTLINE_REVISIT={task_id}",
            "Async": "true",
        }
    )
    if str(_get(reply, "Response")) != "Success":
        return CallOutcome("failed", "", f"Originate refused: {_get(reply, 'Message')}")
    log.info(
        "revisit %s: ringing %s, then %s", task_id, agent_endpoint, mask_number(citizen_number)
    )
    deadline = time.monotonic() + rules.agent_answer_seconds + rules.ring_seconds + 30
    if rules.max_talk_seconds:
        deadline += rules.max_talk_seconds
    agent_uid = ""
    linkedid = ""
    dial_status = ""
    seen: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        try:
            ev = await asyncio.wait_for(ami.events.get(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(ev)
        name = ev.get("Event", "")
        if name == "OriginateResponse" and ev.get("ActionID") == action_id:
            if ev.get("Response") != "Success":
                return CallOutcome("failed", "", f"agent did not answer ({ev.get('Reason', '')})")
            agent_uid = ev.get("Uniqueid", "")
            linkedid = ev.get("Linkedid", "") or agent_uid
        if agent_uid:
            for e in seen:
                if e.get("Event") == "DialEnd" and e.get("Uniqueid") == agent_uid:
                    dial_status = e.get("DialStatus", "")
                if e.get("Event") == "Hangup" and e.get("Uniqueid") == agent_uid:
                    result = DIAL_RESULTS.get(dial_status, "failed")
                    return CallOutcome(result, linkedid, f"DialStatus {dial_status or '-'}")
            seen.clear()
    result = DIAL_RESULTS.get(dial_status, "failed")
    return CallOutcome(result, linkedid, f"timed out waiting; DialStatus {dial_status or '-'}")


def _get(reply: Any, key: str) -> Any:
    if isinstance(reply, list):
        reply = reply[0] if reply else {}
    return reply.get(key, "") if hasattr(reply, "get") else ""


async def run_revisit_call(
    settings: AcdConfig, engine: Engine, task_id: int, agent_id: str
) -> tuple[RevisitTask, CallOutcome]:
    """Place the call of one revisit task from an agent's phone and record the result."""

    rules = load_rules().revisit
    try:
        find(settings, agent_id)
    except KeyError as exc:
        raise ValueError(f"no agent {agent_id}; see `hotline agent list`") from exc
    with Session(engine) as session:
        task = session.get(RevisitTask, task_id)
        if task is None:
            raise ValueError(f"no revisit task {task_id}")
        if task.status not in ("open", "failed"):
            raise ValueError(f"revisit task {task_id} is {task.status}")
        task.status = "calling"
        task.agent = agent_id
        session.add(task)
        session.commit()
        number = task.caller_number
    ami = AmiClient(settings.ami)
    await ami.connect()
    try:
        outcome = await place_call(
            ami,
            rules,
            agent_endpoint=f"PJSIP/{agent_id}",
            citizen_number=number,
            task_id=task_id,
        )
    except BaseException:
        with Session(engine) as session:
            task = session.get(RevisitTask, task_id)
            assert task is not None
            task.status = "failed"
            session.add(task)
            session.commit()
        raise
    finally:
        ami.close()
    with Session(engine) as session:
        task = session.get(RevisitTask, task_id)
        assert task is not None
        record_result(
            session,
            task,
            result=outcome.result,
            note=outcome.detail,
            agent=agent_id,
            call_linkedid=outcome.linkedid,
        )
        session.commit()
        session.refresh(task)
        return task, outcome
