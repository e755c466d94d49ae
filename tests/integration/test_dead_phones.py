"""Agents whose phones fail (issue 20): a phone nobody picks up costs one caller one ring
timeout, once (RONA: app_queue's autopause), and a phone that is not there is never rung
(qualify); the wallboard's states and the supervisor's alarms say so.

The report queue (key 4) with DEAD_PHONE_AGENTS (tests/helpers/session_hotline.py): 1021's
phone rings and is never answered, 1022's answers (report:3, so the queue tries 1021 first),
1023's is asked every 2 s whether it is there. A queue call rings an agent 5 s (the
session's acd.ring_seconds), so the unanswered phone is given up on before the caller's
widening to the general pool. The menu speaks 0.3 s tones (tone_ivr).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers.alarms import AlarmListener
from tests.helpers.ami_events import AmiEvents
from tests.helpers.ivr_calls import Phone
from tests.helpers.session_hotline import NAMESPACE, OWN_SERVICE_PORTS, Hotline
from tests.helpers.sipp import AgentPhone, Caller

pytestmark = pytest.mark.usefixtures("tone_ivr")

OTHER_REPORT_AGENTS = ("1003", "1004")


def state(agent: str) -> dict[str, str]:
    r = redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True, socket_timeout=2)
    try:
        return dict(r.hgetall(f"hotline:{NAMESPACE}:agent:{agent}"))  # type: ignore[arg-type]
    except redis.ConnectionError:
        return {}
    finally:
        r.close()


def wait_state(agent: str, wanted: str, timeout: float = 40) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = state(agent)
        if now.get("state") == wanted:
            return now
        time.sleep(0.2)
    raise AssertionError(f"agent {agent} not {wanted} within {timeout:.0f}s: {state(agent)}")


@pytest.fixture
def report_agents(hotline: Hotline) -> Iterator[list[str]]:
    """Only the agents a test logs in serve the report queue; all logged out after."""
    logged_in: list[str] = []
    for agent in (*OTHER_REPORT_AGENTS, "1021", "1022", "1023"):
        hotline.cli("agent", "logout", agent, check=False)
    try:
        yield logged_in
    finally:
        for agent in logged_in:
            hotline.cli("agent", "logout", agent, check=False)


def log_in(hotline: Hotline, logged_in: list[str], *agents: str) -> None:
    for agent in agents:
        hotline.cli("agent", "login", agent)
        logged_in.append(agent)


def rung(ami: AmiEvents, agent: str) -> int:
    return len(ami.named("AgentCalled", Interface=f"PJSIP/{agent}"))


def test_a_phone_nobody_answers_costs_one_caller_one_ring_then_the_agent_is_paused(
    hotline: Hotline, report_agents: list[str], tmp_path: Path
) -> None:
    unattended = Phone(tmp_path, 5084, 18100, "rings_no_answer.xml").start()
    working = AgentPhone(tmp_path, 5088, 18200)
    working.start()
    try:
        with AmiEvents(hotline) as ami, AlarmListener() as alarms:
            log_in(hotline, report_agents, "1021", "1022")
            wait_state("1021", "available")
            wait_state("1022", "available")

            first = Caller(tmp_path, port=5063, media_port=16200)
            # waits out the unanswered ring (5 s) and 1022's turn (report:3: after the
            # secondary step), then talks
            assert first.call("13900001201", "4", talk_ms=14000).ok
            assert hotline.wait_call("13900001201")["agent"] == "1022"
            assert rung(ami, "1021") == 1, "the unattended phone was rung first, once"
            assert ami.named("AgentRingNoAnswer", Interface="PJSIP/1021")
            paused = wait_state("1021", "paused")
            assert paused["reason"] == "no_answer"
            alarm = alarms.wait_for("agent_no_answer", timeout=20)
            assert "agent 1021" in alarm["message"]

            # the next caller goes to the working phone without ringing 1021 again
            wait_state("1022", "available")  # after the report queue's wrap-up
            second = Caller(tmp_path, port=5065, media_port=16300)
            assert second.call("13900001202", "4", talk_ms=8000).ok
            assert hotline.wait_call("13900001202")["agent"] == "1022"
            assert rung(ami, "1021") == 1

            # the agent comes back with one action
            hotline.cli("agent", "unpause", "1021")
            assert wait_state("1021", "available")["reason"] == ""
    finally:
        unattended.stop()
        working.stop()


def test_a_phone_that_is_not_there_is_never_rung_and_shows_unreachable(
    hotline: Hotline, report_agents: list[str], tmp_path: Path
) -> None:
    working = AgentPhone(tmp_path, 5088, 18200)
    working.start()
    try:
        with AmiEvents(hotline) as ami, AlarmListener() as alarms:
            # nothing listens on 1023's port: its qualify fails within a few seconds
            log_in(hotline, report_agents, "1023", "1022")
            wait_state("1023", "unreachable", timeout=30)
            alarm = alarms.wait_for("agent_unreachable", timeout=20)
            assert "agent 1023" in alarm["message"]

            caller = Caller(tmp_path, port=5063, media_port=16200)
            assert caller.call("13900001203", "4", talk_ms=8000).ok
            assert hotline.wait_call("13900001203")["agent"] == "1022"
            assert rung(ami, "1023") == 0, "an unreachable phone is never rung"

            # the phone comes back: it answers the next qualify and takes calls again
            back = AgentPhone(tmp_path, 5152, 18300, answers_options=True)
            back.start()
            try:
                wait_state("1023", "available", timeout=30)
            finally:
                back.stop()
    finally:
        working.stop()
