"""Asterisk killed (SIGKILL) in the middle of a call and started again: the cut call gets a
complete record that says it was cut (crm_bridge/resync.py cut_ends), ending when the
bridge last heard of Asterisk, and the next call is answered and recorded as usual. Also
with a second bridge (tests/helpers/bridge.py) killed before Asterisk and started after
it: its journal brings the call back, and the call is cut at the bridge's last note.

Only the Asterisk of this session's root is killed (found by its /proc/PID/root); `hotline
up` starts it again (app/supervisor.py), and the test waits for that.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.asterisk.root import asterisk_cmd
from hotline.crm_bridge.resync import CUT_CAUSE
from tests.helpers.bridge import SecondBridge
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller
from tests.helpers.waiting import until


def asterisk_pids(root: Path) -> list[int]:
    """The Asterisk daemons chrooted in `root` (not the `asterisk -rx` of a CLI command)."""
    real = root.resolve()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "asterisk":
                continue
            if Path(os.readlink(d / "root")) != real:
                continue
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if not any(a.startswith(b"-r") for a in args):
            found.append(int(d.name))
    return found


class Asterisks:
    """Kills this session's Asterisk, and waits for `hotline up` to have started it again."""

    def __init__(self, hotline: Hotline) -> None:
        self.hotline = hotline
        self.killed: int | None = None

    def kill(self) -> datetime:
        """SIGKILL; when."""
        [pid] = asterisk_pids(self.hotline.root)
        os.kill(pid, signal.SIGKILL)
        self.killed = pid
        return datetime.now(UTC)

    def start(self) -> None:
        """Wait until the supervisor has started Asterisk again and it is fully booted."""
        until("Asterisk started again by hotline up", self._back, 90)
        kept = json.loads((self.hotline.var / "run" / "services.json").read_text())
        assert kept["children"]["asterisk"]["last_exit"] == "killed by SIGKILL", kept

    def _back(self) -> bool:
        pids = asterisk_pids(self.hotline.root)
        if not pids or self.killed in pids:
            return False
        booted = subprocess.run(
            asterisk_cmd(self.hotline.root, "-rx", "core waitfullybooted"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        uptime = self.hotline.asterisk("core show uptime seconds", check=False)
        return booted.returncode == 0 and "System uptime:" in uptime


@pytest.fixture
def asterisks(hotline: Hotline) -> Asterisks:
    return Asterisks(hotline)


def up_channels(hotline: Hotline) -> int:
    out = hotline.asterisk("core show channels concise")
    return sum(1 for line in out.splitlines() if line.count("!") > 4 and line.split("!")[4] == "Up")


def answered(hotline: Hotline) -> None:
    """The citizen and the agent talking (both channels Up)."""
    until("the call answered", lambda: up_channels(hotline) >= 2, 30)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_call_cut_by_asterisk_killed_is_recorded_as_cut_and_the_next_call_is_normal(
    hotline: Hotline, tone_ivr: Path, asterisks: Asterisks, caller: Caller
) -> None:
    number = "13900000951"
    call = caller.start(number, "3", talk_ms=20_000)  # the complaint desk (agent 1001)
    answered(hotline)
    time.sleep(4)  # they talk; the bridge notes every second that Asterisk is there
    killed = asterisks.kill()
    asterisks.start()
    cut = hotline.wait_call(number, timeout=60)
    call.wait(90)  # SIPp gives up on the cut call (its BYE finds no such call)
    assert cut["hangup_cause_text"] == CUT_CAUSE and cut["hangup_cause"] is None, cut
    assert cut["disposition"] == "answered" and cut["agent"] == "1001", cut
    assert cut["queue"] == "complaint" and cut["ivr_choice"] == "3", cut
    # it ended when the bridge last heard of Asterisk: after the talk began, by the kill
    ended, answered_at = _time(cut["ended_at"]), _time(cut["answered_at"])
    # (the bridge notes each second that AMI is up: its last note may follow the kill by
    # less than that, before the connection drops)
    assert answered_at + timedelta(seconds=2) <= ended <= killed + timedelta(seconds=1.5), (
        cut,
        killed,
    )
    assert cut["talk_seconds"] == pytest.approx((ended - answered_at).total_seconds(), abs=0.01)

    after = "13900000952"
    assert caller.call(after, "3", talk_ms=1000).ok  # the new Asterisk answers
    normal = hotline.wait_call(after)
    assert normal["disposition"] == "answered" and normal["agent"] == "1001", normal
    assert normal["hangup_cause_text"] != CUT_CAUSE and normal["hangup_cause"] == 16, normal


def test_a_bridge_killed_before_asterisk_cuts_its_journaled_call_after_both_restart(
    hotline: Hotline, tone_ivr: Path, asterisks: Asterisks, caller: Caller, tmp_path: Path
) -> None:
    bridge = SecondBridge(hotline, tmp_path / "bridge2")
    bridge.start()
    try:
        number = "13900000953"
        call = caller.start(number, "3", talk_ms=20_000)
        answered(hotline)
        time.sleep(2)  # the second bridge has journaled the answer
        bridge.kill()
        bridge_killed = datetime.now(UTC)
        asterisks.kill()
        asterisks.start()
        bridge.start()  # rebuilds the call from its journal; Asterisk no longer has it
        theirs = bridge.record(number, timeout=60)
        call.wait(90)
    finally:
        bridge.stop()
    assert theirs.hangup_cause_text == CUT_CAUSE, bridge.tail()
    assert theirs.disposition == "answered" and theirs.agent == "1001"
    assert theirs.answered_at is not None
    # the end it noted last (every 5 s), before it was killed: the call lasted that long
    assert theirs.answered_at <= theirs.ended_at <= bridge_killed
    ours = hotline.wait_call(number, timeout=60)  # the hotline's bridge ran throughout
    assert ours["hangup_cause_text"] == CUT_CAUSE
    assert _time(ours["started_at"]) == theirs.started_at
    assert _time(ours["ended_at"]) >= theirs.ended_at
