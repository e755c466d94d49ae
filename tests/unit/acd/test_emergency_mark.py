"""The emergency button (紧急标记): finding the call from AMI rows, raising a waiting
caller's priority, the mark on the wallboard (a real Redis) and in the agents' audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.acd.emergency_mark import audit, find_call, mark, shown
from hotline.acd.errors import ActionError
from hotline.acd.models import AgentAction
from hotline.kernel.db import make_engine, upgrade
from tests.helpers.daemons import Daemon, settings_for
from tests.helpers.ports import free_port

CITIZEN = {
    "Event": "CoreShowChannel",
    "Channel": "PJSIP/carrier-00000007",
    "Uniqueid": "1764000000.7",
    "Linkedid": "1764000000.7",
    "CallerIDNum": "13800138001",
    "BridgeId": "b-1",
}
AGENT_LEG = {
    "Event": "CoreShowChannel",
    "Channel": "PJSIP/1001-00000008",
    "Uniqueid": "1764000000.8",
    "Linkedid": "1764000000.7",
    "CallerIDNum": "1001",
    "BridgeId": "b-1",
}
WAITING = {
    "Event": "CoreShowChannel",
    "Channel": "PJSIP/carrier-00000009",
    "Uniqueid": "1764000000.9",
    "Linkedid": "1764000000.9",
    "CallerIDNum": "13800138002",
    "BridgeId": "",
}
ENTRY = {"Event": "QueueEntry", "Queue": "hotline-general", "Channel": WAITING["Channel"]}


def test_the_agents_current_call_is_found_by_its_bridged_leg() -> None:
    found = find_call([WAITING, CITIZEN, AGENT_LEG], [ENTRY], agent_id="1001")
    assert found is not None
    assert (found.linkedid, found.channel, found.number, found.agent, found.queue) == (
        "1764000000.7",
        "PJSIP/carrier-00000007",
        "13800138001",
        "1001",
        "",
    )
    assert find_call([WAITING, CITIZEN, AGENT_LEG], [ENTRY], agent_id="100") is None
    assert find_call([WAITING], [ENTRY], agent_id="1001") is None


def test_a_waiting_call_is_found_by_its_linkedid_with_its_queue() -> None:
    found = find_call([WAITING, CITIZEN, AGENT_LEG], [ENTRY], linkedid="1764000000.9")
    assert found is not None
    assert (found.channel, found.queue, found.agent) == (WAITING["Channel"], "hotline-general", "")
    assert find_call([CITIZEN], [], linkedid="1764000000.9") is None


class Ami:
    def __init__(self, channels: list[dict[str, str]], priority_reply: str = "Success") -> None:
        self.channels = channels
        self.priority_reply = priority_reply
        self.actions: list[dict[str, str]] = []

    async def action(self, action: dict[str, str], **_: Any) -> Any:
        self.actions.append(action)
        if action["Action"] == "CoreShowChannels":
            return [{"Response": "Success"}, *self.channels]
        if action["Action"] == "QueueStatus":
            return [{"Response": "Success"}, ENTRY]
        return {"Response": self.priority_reply, "Message": "Priority changed"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    e = make_engine(url)
    yield e
    e.dispose()


async def test_a_waiting_caller_goes_first_and_the_wallboard_shows_it(
    tmp_path: Path, redis_server: Daemon, engine: Engine
) -> None:
    settings = settings_for(tmp_path, redis_server.port, free_port())  # no MQTT: logged only
    ami = Ami([WAITING, CITIZEN, AGENT_LEG])
    r = aioredis.Redis(port=redis_server.port, decode_responses=True)
    try:
        m = await mark(settings, ami, r, by="zhao", linkedid="1764000000.9")  # type: ignore[arg-type]
        board = await shown(r, settings.live_namespace)
    finally:
        await r.aclose()
    [change] = [a for a in ami.actions if a["Action"] == "QueueChangePriorityCaller"]
    assert change == {
        "Action": "QueueChangePriorityCaller",
        "Queue": "hotline-general",
        "Caller": "PJSIP/carrier-00000009",
        "Priority": "10",  # as a failed emergency line (agi/variables.py)
        "Immediate": "yes",
    }
    assert (m.caller, m.queue, m.raised, m.by) == ("138******02", "general", True, "zhao")
    assert board == [
        {
            "linkedid": "1764000000.9",
            "caller": "138******02",
            "agent": "",
            "queue": "general",
            "raised": True,
            "by": "zhao",
            "at": m.at,
        }
    ]
    audit(engine, settings, m, "api")
    with Session(engine) as s:
        [row] = s.exec(select(AgentAction)).all()
    assert (row.action, row.actor, row.reason) == ("emergency", "zhao", "1764000000.9")


async def test_an_answered_call_is_marked_without_a_queue(
    tmp_path: Path, redis_server: Daemon
) -> None:
    settings = settings_for(tmp_path, redis_server.port, free_port())
    ami = Ami([CITIZEN, AGENT_LEG])
    r = aioredis.Redis(port=redis_server.port, decode_responses=True)
    try:
        m = await mark(settings, ami, r, by="1001", agent_id="1001")  # type: ignore[arg-type]
        with pytest.raises(ActionError, match="agent 1002 has no live call") as err:
            await mark(settings, ami, r, by="1002", agent_id="1002")  # type: ignore[arg-type]
    finally:
        await r.aclose()
    assert err.value.code == "no_live_call"
    assert (m.linkedid, m.agent, m.queue, m.raised) == ("1764000000.7", "1001", "", False)
    assert not [a for a in ami.actions if a["Action"] == "QueueChangePriorityCaller"]


async def test_redis_down_still_marks_and_raises(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, free_port(), free_port())  # nothing listens
    ami = Ami([WAITING])
    r = aioredis.Redis(port=settings.redis.port, socket_connect_timeout=1)
    try:
        m = await mark(settings, ami, r, by="zhao", linkedid="1764000000.9")  # type: ignore[arg-type]
    finally:
        await r.aclose()
    assert m.raised
