"""The CRM bridge's link to Asterisk, broken and mended (crm_bridge/ami.py, resync.py,
reconcile.py), with a second bridge (tests/helpers/bridge.py) whose AMI goes through a
proxy the test controls, while the hotline's own bridge runs throughout and is the
reference.

- The link cut silently (no close) mid-call: the keep-alive notices, the bridge logs in
  again, finds the call gone and closes it at the CDR's end time.
- A call the bridge never saw (it was stopped for the whole call): the reconciliation
  with Asterisk's CDR creates it and raises an alarm; running it again creates nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.alarms import AlarmListener
from tests.helpers.bridge import SecondBridge
from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller
from tests.helpers.tcp_proxy import SilentCutProxy

# Keep-alive every 1 s with a 2 s timeout (a cut is noticed within 3 s); the CDR is
# compared every second, for calls that ended over a second ago.
FAST = {
    "HOTLINE_AMI__PING_EVERY_SECONDS": "1",
    "HOTLINE_AMI__PING_TIMEOUT_SECONDS": "2",
    "HOTLINE_BRIDGE__RECONCILE_EVERY_SECONDS": "1",
    "HOTLINE_BRIDGE__RECONCILE_GRACE_SECONDS": "1",
}


@pytest.fixture
def proxy() -> Iterator[SilentCutProxy]:
    p = SilentCutProxy(PORTS["ami"]).start()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def bridge(hotline: Hotline, proxy: SilentCutProxy, tmp_path: Path) -> Iterator[SecondBridge]:
    b = SecondBridge(hotline, tmp_path / "bridge2", {**FAST, "HOTLINE_AMI__PORT": str(proxy.port)})
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _close(a: datetime | None, b: datetime, seconds: float = 1.0) -> bool:
    return a is not None and abs((a - b).total_seconds()) <= seconds


def _wait_answered(hotline: Hotline) -> None:
    deadline = time.monotonic() + 30
    while hotline.active_channels() < 2:  # the citizen and the agent
        assert time.monotonic() < deadline, "the call was never answered"
        time.sleep(0.2)


def test_a_silent_cut_is_noticed_and_the_call_across_it_is_complete(
    hotline: Hotline, tone_ivr: Path, proxy: SilentCutProxy, bridge: SecondBridge, caller: Caller
) -> None:
    number = "13900000931"
    call = caller.start(number, "3", talk_ms=5000)  # the complaint desk (agent 1001)
    _wait_answered(hotline)
    proxy.cut()
    bridge.wait_logged("AMI connection lost", 1, timeout=15)
    assert call.wait(60).ok  # the call ends while the link is down
    ours = hotline.wait_call(number)  # the hotline's own bridge saw it all
    logins = proxy.accepted
    proxy.resume()
    bridge.wait_logged("AMI logged in", 2, timeout=30)
    assert proxy.accepted > logins  # the bridge came back through the proxy
    theirs = bridge.record(number)
    assert theirs.linkedid == ours["linkedid"]
    assert theirs.disposition == "answered" and theirs.agent == "1001"
    assert theirs.queue == ours["queue"] == "complaint"
    assert theirs.ivr_choice == ours["ivr_choice"] == "3"
    assert theirs.started_at == _time(ours["started_at"])
    assert theirs.answered_at == _time(ours["answered_at"])
    # the end the bridge never saw, from Asterisk's CDR
    assert _close(theirs.ended_at, _time(ours["ended_at"])), (theirs.ended_at, ours)
    assert theirs.source == "ami"  # made from the events, closed with the CDR's end time
    assert "with the CDR's end time" in bridge.log.read_text()


def test_a_call_the_bridge_never_saw_is_created_from_the_cdr_and_reported(
    hotline: Hotline, tone_ivr: Path, bridge: SecondBridge, caller: Caller
) -> None:
    number = "13900000932"
    bridge.stop()  # the bridge misses the whole call
    assert caller.call(number, "3", talk_ms=1000).ok
    ours: dict[str, Any] = hotline.wait_call(number)
    with AlarmListener() as alarms:
        bridge.start()
        alarm = alarms.wait_for("call_reconciled", 30, linkedid=ours["linkedid"])
    assert number not in alarm["message"] and "139******32" in alarm["message"]
    theirs = bridge.record(number)
    assert theirs.linkedid == ours["linkedid"]
    assert (theirs.source, ours["source"]) == ("cdr", "ami")  # marked as the backstop's
    assert theirs.disposition == "answered" and theirs.agent == "1001"
    assert theirs.queue == "complaint"
    assert theirs.recording_path.endswith(f"/{ours['linkedid']}.wav")  # MixMonitor's file
    assert _close(theirs.started_at, _time(ours["started_at"]))
    assert _close(theirs.ended_at, _time(ours["ended_at"]))
    assert "missing from the records: created from Asterisk's CDR" in bridge.log.read_text()
    again = bridge.cli("bridge", "reconcile")  # idempotent: nothing new
    assert "0 missing from the call records" in again, again
    listed = next(line for line in again.splitlines() if ours["linkedid"] in line)
    assert "source cdr" in listed and "139******32" in listed and number not in again
