"""The CRM bridge killed (SIGKILL) in the middle of a call and started again: thanks
to its journal (crm_bridge/journal.py) the call's record is as complete as the one
written by the hotline's own bridge, which ran throughout.

The second bridge (tests/helpers/bridge.py) is `hotline serve bridge` with its own var
directory and database, on the same Asterisk (AMI) as the test hotline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers.bridge import SecondBridge
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller


def up_channels(hotline: Hotline) -> int:
    """Channels in state Up: a ringing agent's channel exists before the answer, so counting
    channels alone can kill the bridge before the agent answered."""
    out = hotline.asterisk("core show channels concise")
    return sum(1 for line in out.splitlines() if line.count("!") > 4 and line.split("!")[4] == "Up")


@pytest.fixture
def second_bridge(hotline: Hotline, tmp_path: Path) -> Iterator[SecondBridge]:
    bridge = SecondBridge(hotline, tmp_path / "bridge2")
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.stop()


def test_a_bridge_killed_mid_call_completes_the_record_after_restart(
    hotline: Hotline, second_bridge: SecondBridge, caller: Caller
) -> None:
    number = "13900000701"
    call = caller.start(number, "3", talk_ms=12_000)  # the complaint desk (agent 1001)
    deadline = time.monotonic() + 30
    while up_channels(hotline) < 2:  # the citizen and the agent, answered: mid-call
        assert time.monotonic() < deadline, "the call was never answered"
        time.sleep(0.2)
    time.sleep(1)  # the bridge has read the answer (AgentConnect) into its journal
    second_bridge.kill()
    journal = second_bridge.var / "bridge" / "journal.db"
    assert journal.stat().st_size > 0
    second_bridge.start()
    assert call.wait(60).ok
    ours = hotline.wait_call(number)
    theirs = second_bridge.record(number)
    assert theirs.disposition == "answered" and theirs.agent == "1001"
    assert theirs.queue == ours["queue"] == "complaint"
    assert theirs.ivr_choice == ours["ivr_choice"] == "3"
    started = datetime.fromisoformat(ours["started_at"].replace("Z", "+00:00"))
    assert theirs.started_at == started
    assert theirs.answered_at is not None and theirs.talk_seconds == ours["talk_seconds"]
