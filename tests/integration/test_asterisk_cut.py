"""Asterisk killed (SIGKILL) in the middle of a call and started again: the cut call gets a
complete record that says it was cut (crm_bridge/resync.py cut_ends), ending when the
bridge last heard of Asterisk, and the next call is answered and recorded as usual. Also
with a second bridge (tests/helpers/bridge.py) killed before Asterisk and started after
it: its journal brings the call back, and the call is cut at the bridge's last note.

Only the Asterisk of this session's root is killed (found by its /proc/PID/root). The test
starts it again as `hotline up` does (app/supervisor.py _start_asterisk: `asterisk -f -n`
in the root) and stops the one it started at the end of the session. If the supervisor
brings Asterisk back on its own, the test only waits for it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
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
    """Kills this session's Asterisk and starts it again; stops what it started."""

    def __init__(self, hotline: Hotline) -> None:
        self.hotline = hotline
        self.started: list[subprocess.Popen[bytes]] = []

    def kill(self) -> datetime:
        """SIGKILL; when. The daemon is gone when this returns: its threads too, which hold
        its control socket a moment longer than its main thread lives."""
        [pid] = asterisk_pids(self.hotline.root)
        os.kill(pid, signal.SIGKILL)
        killed = datetime.now(UTC)
        for proc in self.started:
            if proc.pid == pid:
                proc.wait(15)
        until("the killed Asterisk gone", lambda: pid not in asterisk_pids(self.hotline.root), 15)
        until("its control socket closed", lambda: not self._listening(), 15)
        return killed

    def _listening(self) -> bool:
        ctl = self.hotline.root / "var/run/asterisk/asterisk.ctl"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(str(ctl))
            except OSError:
                return False
        return True

    def start(self) -> None:
        """Start it again unless something else did, and wait until it is fully booted."""
        if not asterisk_pids(self.hotline.root):
            log = (self.hotline.var / "log" / "asterisk-restarted.log").open("ab")
            self.started.append(
                subprocess.Popen(
                    asterisk_cmd(self.hotline.root, "-f", "-n"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            log.close()
        until("Asterisk fully booted again", self._booted, 90)

    def _booted(self) -> bool:
        if self.started:
            code = self.started[-1].poll()
            assert code is None, f"the restarted Asterisk exited ({code}); var/log/asterisk-*.log"
        booted = subprocess.run(
            asterisk_cmd(self.hotline.root, "-rx", "core waitfullybooted"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        uptime = self.hotline.asterisk("core show uptime seconds", check=False)
        return booted.returncode == 0 and "System uptime:" in uptime

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                self.hotline.asterisk("core stop now", check=False)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


@pytest.fixture(scope="session")
def asterisks(hotline: Hotline) -> Iterator[Asterisks]:
    """Session-wide: the Asterisk started here serves the tests after this one."""
    a = Asterisks(hotline)
    try:
        yield a
    finally:
        a.stop()


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
    assert answered_at + timedelta(seconds=2) <= ended <= killed, (cut, killed)
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
