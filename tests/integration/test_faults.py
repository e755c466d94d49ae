"""The runtime under faults (issue 19): each of our services is its own process, kept by
`hotline up`; one that dies or stalls is started again, with an alarm, and no call notices.

The session runs its FastAGI server apart (so that tests can stop it); here the supervisor's
own is started instead (`hotline service start agi`) and the apart one put back after.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.alarms import AlarmListener
from tests.helpers.session_hotline import SERVICES, Hotline
from tests.helpers.sipp import Caller

# every service the session's supervisor keeps, and the FastAGI server started here
KEPT = ["agi", *(n for n in SERVICES.split(",") if n != "asterisk")]


def kept(hotline: Hotline) -> dict[str, dict[str, Any]]:
    data = json.loads((hotline.var / "run" / "services.json").read_text())
    children: dict[str, dict[str, Any]] = data["children"]
    return children


def wait_back(hotline: Hotline, name: str, old_pid: int, timeout: float = 90) -> dict[str, Any]:
    """The service running again, in a new process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = kept(hotline).get(name, {})
        if child.get("state") == "running" and child.get("pid") not in (None, old_pid):
            return child
        time.sleep(0.2)
    raise AssertionError(f"{name} not running again within {timeout:.0f}s: {kept(hotline)}")


def waiting_callers(hotline: Hotline) -> int:
    return len(re.findall(r"\d+\. PJSIP/carrier-\S+ \(wait:", hotline.asterisk("queue show")))


def up_channels(hotline: Hotline) -> int:
    out = hotline.asterisk("core show channels concise")
    return sum(1 for line in out.splitlines() if line.count("!") > 4 and line.split("!")[4] == "Up")


def wait_until(what: str, check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.2)


@pytest.fixture
def kept_agi(hotline: Hotline) -> Iterator[None]:
    """The supervisor's FastAGI server instead of the session's apart one."""
    hotline.stop_agi()
    try:
        hotline.cli("service", "start", "agi")
        yield
    finally:
        hotline.cli("service", "stop", "agi")
        hotline.start_agi()


@pytest.fixture
def only_1001(hotline: Hotline) -> Iterator[None]:
    """1002 paused: a second complaint caller waits while 1001 talks to the first."""
    hotline.cli("agent", "pause", "1002", "--reason", "meeting")
    try:
        yield
    finally:
        hotline.cli("agent", "unpause", "1002")


def test_each_service_killed_mid_call_calls_go_on_and_records_are_complete(
    hotline: Hotline, kept_agi: None, only_1001: None, tmp_path: Path
) -> None:
    # talk_ms counts from the key: the second caller hangs up ~25 s after the first, once
    # 1001 has answered them
    talking = Caller(tmp_path / "a").start("13900002401", "3", talk_ms=75000)
    wait_until("the first caller talks to 1001", lambda: up_channels(hotline) >= 2)
    waiting = Caller(tmp_path / "b", port=5063, media_port=16200).start(
        "13900002402", "3", talk_ms=100000, timeout_s=300
    )
    wait_until("the second caller waits in a queue", lambda: waiting_callers(hotline) == 1)
    with AlarmListener() as alarms:
        for name in KEPT:
            before = kept(hotline)[name]
            os.kill(before["pid"], signal.SIGKILL)
            after = wait_back(hotline, name, before["pid"])
            assert after["restarts"] == before["restarts"] + 1
            assert after["last_exit"] == "killed by SIGKILL"
            # both citizens are still where they were
            assert waiting_callers(hotline) == 1, f"after {name}: {hotline.asterisk('queue show')}"
            assert up_channels(hotline) >= 3, f"after {name}"
        restarted = {
            m["message"].split(" ", 1)[0]
            for m in alarms.messages
            if m["kind"] == "service_restarted"
        }
        # an alarm MQTT did not take at once waits in var/alarms/ for a relay (back-off to 60 s)
        deadline = time.monotonic() + 90
        while restarted != set(KEPT) and time.monotonic() < deadline:
            time.sleep(0.2)
            restarted = {
                m["message"].split(" ", 1)[0]
                for m in alarms.messages
                if m["kind"] == "service_restarted"
            }
        assert restarted == set(KEPT), alarms.messages
    first, second = talking.wait(180), waiting.wait(300)
    assert first.ok, first.stdout[-2000:]
    assert second.ok, second.stdout[-2000:]
    a, b = hotline.wait_call("13900002401"), hotline.wait_call("13900002402")
    assert a["queue"] == "complaint" and b["queue"] == "general", (a, b)  # b widened at 20 s
    for call in (a, b):
        assert call["disposition"] == "answered" and call["agent"] == "1001", call
        assert call["request_type"] == "complaint", call
        assert call["hangup_cause_text"] == "Normal Clearing", call
        assert call["recording_path"].endswith(f"/{call['linkedid']}.wav"), call
    assert a["talk_seconds"] >= 60, a
    assert b["wait_seconds"] >= 30 and b["talk_seconds"] >= 2, b
    assert json.loads(hotline.cli("status", "--json"))["ok"] is True


def test_a_stalled_fastagi_server_is_killed_and_the_next_caller_reaches_an_agent(
    hotline: Hotline, kept_agi: None, caller: Caller
) -> None:
    before = kept(hotline)["agi"]
    os.kill(before["pid"], signal.SIGSTOP)  # alive, listening, answering nothing
    try:
        # the caller stays past the watchdog (runtime.agi_watchdog_seconds, 5 s) and talks
        result = caller.call("13900002403", "3", talk_ms=15000)
    finally:
        with_pid = before["pid"]
        if Path(f"/proc/{with_pid}").exists():
            os.kill(with_pid, signal.SIGCONT)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900002403")
    # the menu could not run; the dialplan's fallback sent the citizen to an agent
    assert call["disposition"] == "answered" and call["agent"] in ("1001", "1002"), call
    assert call["ivr_result"].startswith("agi-") and call["queue"] == "general", call
    after = wait_back(hotline, "agi", before["pid"])
    assert after["last_exit"].startswith("stalled"), after


def test_an_alarm_raised_while_mqtt_is_down_is_delivered_after(hotline: Hotline) -> None:
    [broker] = [c for c in json.loads((hotline.var / "run" / "children.json").read_text())
                if c["name"] == "mosquitto"]  # fmt: skip
    with AlarmListener() as alarms:
        os.kill(broker["pid"], signal.SIGSTOP)  # down, and not dead: nothing restarts it
        try:
            # what systemd's OnFailure= runs: the alarm cannot reach the broker now
            hotline.cli("service", "failed", "hotline-service@upstream.service")
            pending = list((hotline.var / "alarms" / "pending").glob("*.json"))
            assert pending, "the alarm was not kept while the broker was down"
            status = json.loads(hotline.cli("status", "--json", check=False))
            assert status["components"]["mqtt"]["alarms_waiting"] >= 1, status
        finally:
            os.kill(broker["pid"], signal.SIGCONT)
        alarm = alarms.wait_for("service_restarted", 120)
    assert alarm["message"].startswith("hotline-service@upstream.service failed"), alarm
    assert not list((hotline.var / "alarms" / "pending").glob("*.json"))
