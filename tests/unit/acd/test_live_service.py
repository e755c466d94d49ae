"""The live service against a real Redis and Mosquitto (private ports), with a fake AMI
replaying recorded events; the live API read back through FastAPI's test client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI, WebSocketDisconnect
from fastapi.testclient import TestClient

from hotline.acd import live_keys
from hotline.acd.live_api import router as live_router
from hotline.acd.live_service import LiveService
from hotline.auth.gate import CLOSE_UNAUTHORISED, SESSION_COOKIE
from hotline.kernel.alarms import recent
from hotline.kernel.db import make_engine
from hotline.kernel.web import attach
from tests.helpers.ami_transcript import load
from tests.helpers.auth_tokens import settings_token
from tests.helpers.daemons import TENANT, Daemon, settings_for
from tests.helpers.fake_ami import FakeAmi
from tests.helpers.ports import free_port


@pytest.fixture
def mqtt_server(tmp_path: Path) -> Iterator[Daemon]:
    exe = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin")
    assert exe, "mosquitto missing: scripts/setup installs it"
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    d = Daemon([exe, "-c", str(conf)], port)
    d.start()
    yield d
    d.stop()


@contextlib.asynccontextmanager
async def running(service: LiveService) -> AsyncIterator[LiveService]:
    task = asyncio.create_task(service.run())
    try:
        yield service
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except (AssertionError, KeyError, TypeError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


def transcript() -> list[dict[str, str]]:
    """The recorded calls, moved to end now ("today" and the window are about now)."""
    events = load("ami_three_calls.txt")
    shift = time.time() - 1 - float(events[-1]["Timestamp"])
    for e in events:
        if "Timestamp" in e:
            e["Timestamp"] = f"{float(e['Timestamp']) + shift:.6f}"
    return events


async def test_numbers_reach_redis_and_mqtt_masked(
    tmp_path: Path, redis_server: Daemon, mqtt_server: Daemon
) -> None:
    settings = settings_for(tmp_path, redis_server.port, mqtt_server.port)
    ami = FakeAmi()
    service = LiveService(settings, ami)  # type: ignore[arg-type]
    r = aioredis.Redis(port=redis_server.port, decode_responses=True)
    messages: dict[str, dict[str, Any]] = {}
    alarms: list[dict[str, Any]] = []
    async with aiomqtt.Client("127.0.0.1", mqtt_server.port) as mqtt, running(service):
        await mqtt.subscribe(f"hotline/{TENANT}/#")
        for e in transcript():
            ami.events.put_nowait(e)

        async def complaint_answered() -> bool:
            h = await r.hgetall(live_keys.queue_key(TENANT, "complaint"))
            return h.get("answered") == "1"

        await eventually(complaint_answered)

        async def read_mqtt() -> None:
            async for m in mqtt.messages:
                messages[str(m.topic)] = json.loads(bytes(m.payload))
                if str(m.topic).endswith("/alarm"):
                    alarms.append(messages[str(m.topic)])
                c = messages.get(f"hotline/{TENANT}/queue/consultation", {})
                t = messages.get(f"hotline/{TENANT}/total", {})
                alarmed = any("consultation" in a["message"] for a in alarms)
                if c.get("today", {}).get("abandoned") == 1 and t.get("today") and alarmed:
                    return

        await asyncio.wait_for(read_mqtt(), 10)
    complaint = await r.hgetall(live_keys.queue_key(TENANT, "complaint"))
    assert complaint["offered"] == "1"
    assert complaint["sl_15"] == complaint["sl_20"] == "100.0"
    assert complaint["answered_within_20"] == complaint["window_answered_within_20"] == "1"
    assert complaint["aht_seconds"] == "5.0"
    assert json.loads(complaint["json"])["today"]["answered"] == 1
    consultation = await r.hgetall(live_keys.queue_key(TENANT, "consultation"))
    assert (consultation["abandoned"], consultation["sl_20"]) == ("1", "0.0")
    assert json.loads(consultation["json"])["today"]["answered_within"] == {"15": 0, "20": 0}
    assert "consultation" in await r.smembers(live_keys.queues_key(TENANT))
    total = await r.hgetall(live_keys.total_key(TENANT))
    assert (total["offered"], total["answered"], total["abandoned"]) == ("2", "1", "1")
    assert messages[f"hotline/{TENANT}/total"]["today"]["offered"] == 2
    assert {a["kind"] for a in alarms} == {"service_level_low"}
    assert not any("complaint" in a["message"] for a in alarms)  # 100 %: no alarm
    # through the alarm spool, as every alarm: kept there had the broker been down
    assert {k.alarm.kind for k in recent(settings)} == {"service_level_low"}
    everything = json.dumps(messages) + json.dumps(
        [await r.hgetall(k) for k in await r.keys("hotline:*") if await r.type(k) == "hash"]
    )
    assert "13800138001" not in everything and "13800138002" not in everything
    await r.aclose()


async def test_redis_down_keeps_counting_then_writes_and_restart_reads_back(
    tmp_path: Path, redis_server: Daemon, mqtt_server: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, redis_server.port, mqtt_server.port)
    redis_server.stop()
    ami = FakeAmi()
    service = LiveService(settings, ami)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="hotline.acd.live_service"):
        async with running(service):
            for e in transcript():
                ami.events.put_nowait(e)
            await eventually(lambda: asyncio.sleep(0, service.stats.total.today.offered == 2))

            def logged_down() -> list[str]:
                return [m for m in caplog.messages if "unreachable" in m and "Redis" in m]

            await eventually(lambda: asyncio.sleep(0, logged_down()))
            await asyncio.sleep(1.5)  # more write attempts against the stopped Redis
            redis_server.start()
            r = aioredis.Redis(port=redis_server.port, decode_responses=True)

            async def written() -> bool:
                return await r.hget(live_keys.total_key(TENANT), "offered") == "2"

            await eventually(written)
    assert len(logged_down()) == 1, logged_down()  # one line per outage, not one a second
    # a restarted service reads today's counters back and adds to them
    ami2 = FakeAmi(
        queue_status=[
            {
                "Event": "QueueEntry",
                "Queue": "hotline-general",
                "Uniqueid": "9.9",
                "CallerIDNum": "13912345678",
                "Wait": "7",
                "Position": "1",
            },
            {"Event": "QueueStatusComplete"},
        ]
    )
    again = LiveService(settings, ami2)  # type: ignore[arg-type]
    async with running(again):
        ami2.events.put_nowait({"Event": "FullyBooted"})

        async def rebuilt() -> bool:
            h = await r.hgetall(live_keys.queue_key(TENANT, "general"))
            return h.get("waiting") == "1"

        await eventually(rebuilt)
        total = await r.hgetall(live_keys.total_key(TENANT))
        assert (total["offered"], total["answered"], total["waiting"]) == ("2", "1", "1")
        general = json.loads(str(await r.hget(live_keys.queue_key(TENANT, "general"), "json")))
        assert general["callers"][0]["caller"] == "139******78"
        assert general["longest_wait_seconds"] >= 7
    assert ami2.actions == [{"Action": "QueueStatus"}]
    await r.aclose()


def test_live_api_reads_redis_and_needs_a_login(tmp_path: Path, redis_server: Daemon) -> None:
    settings = settings_for(tmp_path, redis_server.port, free_port())

    async def seed() -> None:
        r = aioredis.Redis(port=redis_server.port, decode_responses=True)
        service = LiveService(settings, FakeAmi(), redis=r)  # type: ignore[arg-type]
        for e in transcript():
            service.stats.feed(e)
        await service.write(time.time())
        await r.sadd(live_keys.agents_key(TENANT), "1001", "1002")
        await r.hset(
            live_keys.agent_key(TENANT, "1001"),
            mapping={"state": "paused", "since": "2026-11-24T02:00:00+00:00", "reason": "meal",
                     "queues": "complaint,general", "calls_handled": "7"},
        )  # fmt: skip
        await r.hset(live_keys.agent_key(TENANT, "1002"), mapping={"state": "available"})
        await r.aclose()

    asyncio.run(seed())

    def app() -> FastAPI:
        a = FastAPI()
        attach(a, settings, make_engine(settings.db_url))
        a.include_router(live_router)
        return a

    token = settings_token(settings, "wall", "supervisor")
    # one client per app: the reader's Redis connections belong to one event loop
    with TestClient(app(), headers={"Authorization": f"Bearer {token}"}) as local:
        queues = local.get("/api/live/queues").json()
        assert [q["queue"] for q in queues] == settings.queue_names()  # every queue, config order
        complaint = local.get("/api/live/queues/complaint").json()
        assert (complaint["title"], complaint["today"]["answered"]) == ("投诉", 1)
        assert local.get("/api/live/queues/nope").status_code == 404
        assert local.get("/api/live/total").json()["today"]["offered"] == 2
        agents = {a["id"]: a for a in local.get("/api/live/agents").json()}
        assert agents["1001"]["state"] == "paused"
        assert agents["1001"]["reason"] == "meal"
        assert agents["1001"]["queues"] == ["complaint", "general"]
        assert agents["1001"]["calls_handled"] == 7
        assert agents["1001"]["state_seconds"] >= 0
        assert agents["1002"]["calls_handled"] == 0
        with local.websocket_connect("/api/live/ws") as ws:
            board = ws.receive_json()
        assert board["thresholds"] == [15, 20]
        assert board["total"]["today"]["answered"] == 1
        assert {a["id"] for a in board["agents"]} == {"1001", "1002"}
        assert "wallboard.js" in local.get("/wallboard").text
        assert "/api/live/ws" in local.get("/wallboard/wallboard.js").text
        assert local.get("/wallboard/secrets.env").status_code == 404

    with TestClient(app()) as anon:
        # without a login: neither the numbers nor the page (loopback or not)
        assert anon.get("/api/live/queues").status_code == 401
        assert anon.get("/api/live/queues", params={"token": token}).status_code == 401
        page = anon.get("/wallboard", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=/wallboard")
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            anon.websocket_connect("/api/live/ws") as ws,
        ):
            ws.receive_json()
        assert refused.value.code == CLOSE_UNAUTHORISED
        anon.cookies.set(SESSION_COOKIE, settings_token(settings, "root", "admin"))
        assert anon.get("/api/live/queues").status_code == 403  # an admin: no live numbers
        # the login page's cookie opens the page and its WebSocket
        anon.cookies.set(SESSION_COOKIE, token)
        assert "wallboard.js" in anon.get("/wallboard").text
        with anon.websocket_connect("/api/live/ws") as ws:
            assert ws.receive_json()["total"]["today"]["offered"] == 2
        lan = anon
        # Redis gone: a clear 503, not a crash
        redis_server.stop()
        r = lan.get("/api/live/queues")
        assert r.status_code == 503 and "Redis" in r.json()["detail"]
