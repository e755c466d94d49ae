"""Calls cut by an Asterisk restart (crm_bridge/resync.py cut_ends, worker.py): the whole
BridgeService on a fake AMI, with the recorded transcript tests/fixtures/ami_three_calls.txt
moved to a minute ago. Agent 1001 has answered 13800138001 when the AMI link drops; at the
next login Asterisk's FullyBooted says how long it has been up, and CoreShowChannels what
it still holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.calls.models import CallRecord, Disposition
from hotline.config.settings import Settings
from hotline.crm_bridge import worker
from hotline.crm_bridge.assembler import CallAssembler, event_time
from hotline.crm_bridge.journal import Journal
from hotline.crm_bridge.resync import (
    CUT_CAUSE,
    asterisk_started,
    believed_alive,
    cut_ends,
    plan,
)
from hotline.crm_bridge.worker import BridgeService
from hotline.kernel.db import make_engine, upgrade
from tests.helpers.ami_transcript import load
from tests.helpers.fake_ami import FakeAmi

CALL = "1795531175.2"  # 13800138001, answered by agent 1001
AGENT_LEG = "1795531180.3"


def recent(events: list[dict[str, str]], ago: float) -> list[dict[str, str]]:
    """The events moved in time so that the first came `ago` seconds before now."""
    first = float(next(e["Timestamp"] for e in events if "Timestamp" in e))
    shift = datetime.now(UTC).timestamp() - ago - first
    return [
        {**e, "Timestamp": f"{float(e['Timestamp']) + shift:.6f}"} if "Timestamp" in e else e
        for e in events
    ]


EVENTS = [e for e in load("ami_three_calls.txt") if e.get("Event") != "FullyBooted"]
ANSWERED = next(i for i, e in enumerate(EVENTS) if e.get("Event") == "AgentConnect") + 1


class BridgeAmi(FakeAmi):
    """The fake AMI of an Asterisk up for an hour, with a session that can drop and come
    back, and a channel listing."""

    def __init__(self) -> None:
        super().__init__()
        self.logged_in = asyncio.Event()
        self.channels: list[dict[str, str]] = []
        self.started = datetime.now(UTC) - timedelta(hours=1)

    async def action(self, action: dict[str, str], **_: Any) -> list[dict[str, str]]:
        self.actions.append(action)
        assert action["Action"] == "CoreShowChannels", action
        return [{"Response": "Success", "EventList": "start"}, *self.channels]

    def login(self) -> None:
        self.logged_in.set()
        uptime = (datetime.now(UTC) - self.started).total_seconds()
        self.events.put_nowait({"Event": "FullyBooted", "Uptime": str(int(uptime))})

    def drop(self) -> None:
        self.logged_in.clear()

    def restart(self) -> None:
        """Killed and started again: a new start time, no channels."""
        self.drop()
        self.started = datetime.now(UTC)
        self.channels = []


def listed(uniqueid: str) -> dict[str, str]:
    return {"Event": "CoreShowChannel", "Uniqueid": uniqueid, "Linkedid": CALL}


@pytest.fixture(autouse=True)
def fast_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "HEARD_EVERY", 0.02)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    return make_engine(url)


def records(engine: Engine) -> dict[str, CallRecord]:
    with Session(engine) as s:
        return {r.linkedid: r for r in s.exec(select(CallRecord)).all()}


async def until(what: str, check: Callable[[], object], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"{what}: not within {timeout:.0f} s"
        await asyncio.sleep(0.01)


class Running:
    """A BridgeService running on a BridgeAmi, with its journal in `tmp_path`."""

    def __init__(self, tmp_path: Path, engine: Engine) -> None:
        self.ami = BridgeAmi()
        journal = Journal(tmp_path / "journal.db")
        self.bridge = BridgeService(Settings(var_dir=tmp_path), engine, self.ami, journal)  # type: ignore[arg-type]
        self.task = asyncio.create_task(self.bridge.run())

    async def login(self) -> None:
        """A login, and the bridge's resync after it done."""
        logins = len(self.ami.actions)
        self.ami.login()
        await until("the resync", lambda: len(self.ami.actions) > logins and self.settled())

    def settled(self) -> bool:
        return self.ami.events.empty() and self.bridge._in_session

    async def feed(self, events: list[dict[str, str]]) -> None:
        for e in events:
            self.ami.events.put_nowait(e)
        await until("the events taken", self.ami.events.empty)
        await asyncio.sleep(0.05)  # the last batch assembled

    async def kill(self) -> None:
        """Gone at once (SIGKILL): the journal keeps what it had."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.bridge.journal.close()


async def answered_then_dropped(tmp_path: Path, engine: Engine) -> tuple[Running, datetime]:
    """Up an hour, the call answered a minute ago; the link drops. When it dropped."""
    events = recent(EVENTS, ago=60)
    r = Running(tmp_path, engine)
    await r.login()
    await r.feed(events[:ANSWERED])
    assert set(r.bridge.assembler.calls) == {CALL}
    heard = datetime.now(UTC)
    await until("a note that Asterisk is up", lambda: (r.bridge.heard_at or heard) > heard)
    r.ami.drop()
    dropped = datetime.now(UTC)
    await until("the loss noticed", lambda: not r.bridge._in_session)
    return r, dropped


async def test_a_new_asterisk_without_the_channels_cuts_the_call_at_the_drop(
    tmp_path: Path, engine: Engine
) -> None:
    r, dropped = await answered_then_dropped(tmp_path, engine)
    last_event = r.bridge.assembler.calls[CALL].last_seen
    assert last_event is not None
    r.ami.restart()  # it knows nothing of the call
    await r.login()
    await until("the record", lambda: CALL in records(engine))
    rec = records(engine)[CALL]
    assert rec.hangup_cause_text == CUT_CAUSE and rec.hangup_cause is None
    assert rec.disposition == Disposition.ANSWERED and rec.agent == "1001"
    assert rec.answered_at is not None and rec.talk_seconds is not None
    # it ended when the bridge last heard of the old Asterisk: after the answer, by the drop
    assert last_event < rec.ended_at <= dropped
    assert rec.talk_seconds == pytest.approx((rec.ended_at - rec.answered_at).total_seconds())
    assert r.bridge.assembler.calls == {} and r.bridge.status()["calls_cut"] == 1
    await r.kill()


async def test_the_same_asterisk_still_holding_the_channels_cuts_nothing(
    tmp_path: Path, engine: Engine
) -> None:
    r, _ = await answered_then_dropped(tmp_path, engine)
    r.ami.channels = [listed(CALL), listed(AGENT_LEG)]
    await r.login()  # the same Asterisk
    assert set(r.bridge.assembler.calls) == {CALL} and records(engine) == {}
    await r.feed(recent(EVENTS, ago=60)[ANSWERED:])  # its own hang-ups follow
    await until("the record", lambda: CALL in records(engine))
    rec = records(engine)[CALL]
    assert rec.hangup_cause_text != CUT_CAUSE and rec.hangup_cause == 16  # Normal Clearing
    assert r.bridge.status()["calls_cut"] == 0
    await r.kill()


async def test_a_call_gone_from_the_same_asterisk_ended_and_was_not_cut(
    tmp_path: Path, engine: Engine
) -> None:
    """The same Asterisk (up an hour), the call no longer listed: it ended while the link
    was down, as before (crm_bridge/resync.py), and was not cut."""
    r, _ = await answered_then_dropped(tmp_path, engine)
    await r.login()
    await until("the record", lambda: CALL in records(engine))
    assert records(engine)[CALL].hangup_cause_text == ""
    await r.kill()


async def test_a_bridge_killed_too_cuts_its_journaled_call_at_its_last_note(
    tmp_path: Path, engine: Engine
) -> None:
    r, _ = await answered_then_dropped(tmp_path, engine)
    noted = r.bridge.heard_at
    await r.kill()  # killed while Asterisk was away
    assert Journal(tmp_path / "journal.db").last_heard() == noted
    again = Running(tmp_path, engine)  # a new bridge and a new Asterisk
    again.ami.restart()
    await again.login()
    await until("the record", lambda: CALL in records(engine))
    rec = records(engine)[CALL]
    assert rec.hangup_cause_text == CUT_CAUSE and rec.ended_at == noted
    await again.kill()


async def test_a_bridge_killed_alone_finishes_its_journaled_call_normally(
    tmp_path: Path, engine: Engine
) -> None:
    events = recent(EVENTS, ago=60)
    r = Running(tmp_path, engine)
    await r.login()
    await r.feed(events[:ANSWERED])
    await r.kill()
    again = Running(tmp_path, engine)
    again.ami.channels = [listed(CALL), listed(AGENT_LEG)]
    again.ami.started = r.ami.started  # the same Asterisk, the call still up
    await again.login()
    assert set(again.bridge.assembler.calls) == {CALL}  # rebuilt from the journal
    await again.feed(events[ANSWERED:])
    await until("the record", lambda: CALL in records(engine))
    rec = records(engine)[CALL]
    assert rec.hangup_cause == 16 and rec.disposition == Disposition.ANSWERED
    await again.kill()


# cut_ends alone ---------------------------------------------------------------------
def _open_answered() -> CallAssembler:
    asm = CallAssembler()
    for ev in EVENTS[:ANSWERED]:
        asm.feed(ev)
    return asm


def _cut(
    asm: CallAssembler,
    *,
    started: datetime | None,
    heard: datetime | None = None,
    ends: dict[str, datetime] | None = None,
) -> dict[str, datetime]:
    p = plan(believed_alive(asm.calls), asm.calls, [], finished=asm.finished, now=datetime.now(UTC))
    return cut_ends(p, asm.calls, ends or {}, started=started, heard=heard)


def test_cut_ends_needs_a_restart_after_the_call_began() -> None:
    asm = _open_answered()
    st = asm.calls[CALL]
    assert st.last_seen is not None
    later = st.last_seen + timedelta(minutes=5)
    assert _cut(asm, started=later) == {CALL: st.last_seen}  # no note: its last event
    assert _cut(asm, started=later, heard=later - timedelta(minutes=1)) == {
        CALL: later - timedelta(minutes=1)
    }
    # a note taken after the new Asterisk started (the link came back between two notes)
    assert _cut(asm, started=later, heard=later + timedelta(seconds=3)) == {CALL: later}
    assert _cut(asm, started=st.first_seen - timedelta(hours=1)) == {}  # not restarted
    assert _cut(asm, started=None) == {}  # Asterisk did not say its uptime


def test_a_call_with_an_end_in_the_cdr_or_without_its_caller_is_not_cut() -> None:
    asm = _open_answered()
    later = datetime.now(UTC) + timedelta(days=3650)
    assert _cut(asm, started=later, ends={CALL: later}) == {}
    hangup = next(
        e for e in EVENTS[ANSWERED:] if e.get("Event") == "Hangup" and e.get("Uniqueid") == CALL
    )
    asm.feed(hangup)  # the caller hung up; only the agent's leg was left
    assert CALL in asm.calls and _cut(asm, started=later) == {}


def test_asterisk_started_is_the_arrival_less_the_uptime() -> None:
    now = event_time({"Timestamp": "1795531300"})
    assert asterisk_started({"Event": "FullyBooted", "Uptime": "27"}, now) == now - timedelta(
        seconds=27
    )
    assert asterisk_started({"Event": "FullyBooted"}, now) is None
