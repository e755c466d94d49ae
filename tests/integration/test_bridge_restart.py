"""The CRM bridge killed (SIGKILL) in the middle of a call and started again: thanks
to its journal (crm_bridge/journal.py) the call's record is as complete as the one
written by the hotline's own bridge, which ran throughout.

The second bridge is `hotline serve bridge` with its own var directory and database,
on the same Asterisk (AMI) as the test hotline.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from crm_bridge.models import CallRecord
from hotline.db import make_engine
from tests.helpers.sipp import Caller
from tests.integration.conftest import HOTLINE, REPO, Hotline


class SecondBridge:
    def __init__(self, hotline: Hotline, var: Path) -> None:
        secret = (hotline.var / "secrets.env").read_text()
        self.env = {
            **hotline.env,
            "HOTLINE_VAR_DIR": str(var),
            "HOTLINE_AMI__SECRET": secret.split("HOTLINE_AMI__SECRET=", 1)[1].split()[0],
            "HOTLINE_ASTERISK_ROOT": str(hotline.root),
        }
        self.var = var
        self.log = var / "bridge.log"
        self.proc: subprocess.Popen[bytes] | None = None
        var.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        logins = self.log.read_text().count("AMI logged in") if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*HOTLINE, "serve", "bridge"], env=self.env, cwd=REPO, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while self.log.read_text().count("AMI logged in") <= logins:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the second bridge did not log in to AMI"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def record(self, caller: str, timeout: float = 30) -> CallRecord:
        engine = make_engine(f"sqlite:///{self.var / 'hotline.db'}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with Session(engine) as s:
                rec = s.exec(select(CallRecord).where(CallRecord.caller_number == caller)).first()
            if rec is not None:
                return rec
            time.sleep(0.3)
        raise AssertionError(f"the second bridge stored no call from {caller}")


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
    while hotline.active_channels() < 2:  # the citizen and the agent: mid-call
        assert time.monotonic() < deadline, "the call was never answered"
        time.sleep(0.2)
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
