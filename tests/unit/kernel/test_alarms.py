"""Alarms kept in the spool while MQTT is down and sent after, against a real Mosquitto of
the test's own: the relay, two relays sharing a spool, corrupt files, the bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiomqtt
import pytest

from hotline.config.settings import Settings
from hotline.kernel import alarms
from hotline.kernel.alarm_spool import Spool
from hotline.kernel.alarms import Alarm, flush, pending_count, publish, recent, relay_forever
from tests.helpers.daemons import Daemon, settings_for

REPO = Path(__file__).resolve().parents[3]
WATCHER = "alarm-watcher"  # a persistent MQTT session: messages wait for it while it is away


def settings(tmp_path: Path, broker: Daemon) -> Settings:
    return settings_for(tmp_path / "var", redis_port=1, mqtt_port=broker.port)


async def watch(broker: Daemon, s: Settings) -> None:
    """Open the watcher's session on the alarm topic; the broker keeps what comes later."""
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, identifier=WATCHER, clean_session=False
    ) as client:
        await client.subscribe(alarms.alarm_topic(s), qos=1)


async def received(broker: Daemon, count: int, *, quiet: float = 1.0) -> list[bytes]:
    """The payloads waiting for the watcher: `count` of them, then whatever else comes
    within `quiet` seconds (a duplicate would)."""
    got: list[bytes] = []
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, identifier=WATCHER, clean_session=False
    ) as client:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                async for m in client.messages:
                    got.append(bytes(m.payload))
                    if len(got) == count:
                        break
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(quiet):
                async for m in client.messages:
                    got.append(bytes(m.payload))
    return got


@contextlib.asynccontextmanager
async def relaying(s: Settings) -> AsyncIterator[None]:
    task = asyncio.create_task(relay_forever(s, idle_seconds=0.1))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_an_alarm_raised_while_mqtt_is_down_is_sent_when_it_is_back(
    tmp_path: Path, broker: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    s = settings(tmp_path, broker)
    broker.start()
    await watch(broker, s)
    broker.stop()
    alarm = Alarm("disk_low", "recordings: 80 MB free", linkedid="1700000000.1", at="2024-05-01")
    caplog.set_level(logging.INFO)
    async with relaying(s):
        assert await publish(s, alarm) is False
        [kept] = Spool.of(s.var_dir).pending() + Spool.of(s.var_dir).sending()
        assert kept.read_text() == alarm.payload()
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE((s.var_dir / "alarms").stat().st_mode) == 0o700
        assert pending_count(s) == 1
        assert [(k.alarm, k.delivered) for k in recent(s)] == [(alarm, False)]
        await until(lambda: "unreachable" in caplog.text)
        broker.start()
        await until(lambda: pending_count(s) == 0)
    assert await received(broker, 1) == [alarm.payload().encode()]
    assert Spool.of(s.var_dir).pending() == [] and Spool.of(s.var_dir).sending() == []
    assert [(k.alarm, k.delivered) for k in recent(s)] == [(alarm, True)]
    assert "MQTT reachable again; 1 kept alarms sent" in caplog.text


async def test_publish_sends_at_once_when_the_broker_is_up(tmp_path: Path, broker: Daemon) -> None:
    s = settings(tmp_path, broker)
    broker.start()
    await watch(broker, s)
    older = Alarm("recording_missing", "call 1: no recording", at="2024-05-01T08:00:00")
    newer = Alarm("emergency_call", "突发 call from 138****0000", severity="critical")
    assert await publish(s, older) is True
    assert await publish(s, newer) is True
    assert await received(broker, 2) == [older.payload().encode(), newer.payload().encode()]
    assert pending_count(s) == 0
    assert [k.alarm for k in recent(s)] == [newer, older]  # newest first
    assert [k.alarm for k in recent(s, 1)] == [newer]


FLUSH = """
import asyncio, sys
from hotline.kernel.alarms import flush
from tests.helpers.daemons import settings_for
from pathlib import Path
print(asyncio.run(flush(settings_for(Path(sys.argv[1]), 1, int(sys.argv[2])))))
"""


async def flush_apart(s: Settings) -> asyncio.subprocess.Process:
    """`flush` in a process of its own, printing how many it sent."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-c", FLUSH, str(s.var_dir), str(s.mqtt.port)]
    return await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, env=env)


async def test_two_relays_do_not_send_one_alarm_twice(tmp_path: Path, broker: Daemon) -> None:
    s = settings(tmp_path, broker)
    spool = Spool.of(s.var_dir)
    sent = [Alarm("recording_missing", f"call {i}: no recording").payload() for i in range(200)]
    for payload in sent:
        spool.put(payload)
    broker.start()
    await watch(broker, s)
    relays = [await flush_apart(s) for _ in range(2)]  # started together, each its own process
    outputs = [(await r.communicate())[0] for r in relays]
    assert [r.returncode for r in relays] == [0, 0]
    assert sum(int(o) for o in outputs) == 200
    got = await received(broker, 200)
    assert sorted(got) == sorted(p.encode() for p in sent)  # each once: no duplicate
    assert pending_count(s) == 0 and len(spool.delivered()) == 200


def test_a_claimed_alarm_cannot_be_claimed_again(tmp_path: Path) -> None:
    spool = Spool.of(tmp_path)
    path = spool.put(Alarm("disk_low", "x").payload())
    claimed = spool.claim(path, "1.a")
    assert claimed is not None and claimed.parent == spool.sending_dir
    assert spool.claim(path, "2.b") is None


async def test_a_corrupt_file_is_set_aside_and_the_others_sent(
    tmp_path: Path, broker: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    s = settings(tmp_path, broker)
    spool = Spool.of(s.var_dir)
    spool.put('{"kind": "disk_low", "mess')  # cut short
    spool.put(json.dumps({"kind": "disk_low"}))  # not an alarm
    good = Alarm("verify_failed", "2 recordings altered", severity="critical")
    spool.put(good.payload())
    broker.start()
    await watch(broker, s)
    assert await flush(s) == 1
    assert await received(broker, 1) == [good.payload().encode()]
    assert pending_count(s) == 0
    assert len(spool.bad()) == 2
    unreadable = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(unreadable) == 2 and all("moved to" in m for m in unreadable)
    assert [k.alarm for k in recent(s)] == [good]


def test_past_the_bound_the_oldest_are_dropped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "alarms", max_pending=3)
    kept = [Alarm("recording_missing", f"call {i}", at=f"t{i}").payload() for i in range(5)]
    for payload in kept:
        spool.put(payload)
    assert [p.read_text() for p in spool.pending()] == kept[2:]
    dropped = [r.getMessage() for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(dropped) == 2
    assert "recording_missing of t0" in dropped[0] and "recording_missing of t1" in dropped[1]


def test_a_claim_of_a_relay_that_died_goes_back_to_pending(tmp_path: Path) -> None:
    spool = Spool.of(tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    live, dead, old = (Alarm("disk_low", m).payload() for m in ("live", "dead", "old"))
    assert spool.claim(spool.put(live), f"{os.getpid()}.a") is not None
    assert spool.claim(spool.put(dead), f"{gone.pid}.b") is not None
    stuck = spool.put(old)  # claimed by a live process, longer ago than a send can take
    os.rename(
        stuck, spool.sending_dir / f"{stuck.stem}~{os.getpid()}.c.{int(time.time()) - 120}.json"
    )
    assert spool.reclaim_stale() == 2
    assert [p.read_text() for p in spool.pending()] == [dead, old]
    assert [p.read_text() for p in spool.sending()] == [live]


async def test_an_alarm_that_cannot_be_kept_is_still_sent(
    tmp_path: Path, broker: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    s = settings(tmp_path, broker)
    s.var_dir.write_text("a file where the var directory should be")
    broker.start()
    await watch(broker, s)
    alarm = Alarm("disk_low", "var: 0 MB free")
    assert await publish(s, alarm) is True
    assert await received(broker, 1) == [alarm.payload().encode()]
    assert "not kept in" in caplog.text
