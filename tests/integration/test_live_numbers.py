"""Live numbers and the wallboard through the real Asterisk: SIPp callers, the live
service's Redis and MQTT output, and the page in headless Chromium.

The menu's prompts are 0.3 s tones (conftest's tone_ivr): a caller reaches the queue
within a few seconds of pressing 0, also when nobody is logged in and the offer of a
callback (agi/waiting.py, 3 s for a key) comes first."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import redis

from hotline.acd import live_keys
from tests.helpers.chromium import Browser
from tests.helpers.session_hotline import (
    AGENTS,
    NAMESPACE,
    OWN_SERVICE_PORTS,
    Hotline,
    user_password,
)
from tests.helpers.sipp import Caller
from tests.helpers.waiting import eventually

TENANT = NAMESPACE


class MqttWatch:
    """Every message on hotline/<namespace>/#, collected by a thread of its own."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.raw: list[bytes] = []
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", OWN_SERVICE_PORTS["mqtt"]) as client:
            await client.subscribe(f"hotline/{TENANT}/#")
            self._subscribed.set()
            while not self._stop.is_set():
                try:
                    m = await asyncio.wait_for(anext(client.messages), 0.5)
                except TimeoutError:
                    continue
                payload = bytes(m.payload)
                self.raw.append(payload)
                self.messages.append((str(m.topic), json.loads(payload)))

    def __enter__(self) -> MqttWatch:
        self._thread.start()
        assert self._subscribed.wait(10), "could not subscribe to the test broker"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [body for t, body in list(self.messages) if t == topic]


@pytest.fixture
def store(hotline: Hotline) -> Iterator[redis.Redis]:
    r = redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True)
    yield r
    r.close()


def snapshot(store: redis.Redis, key: str) -> dict[str, Any]:
    body = store.hget(key, "json")
    return json.loads(str(body)) if body else {}


def today(store: redis.Redis, key: str) -> dict[str, int]:
    figures = snapshot(store, key).get("today", {})
    return {k: int(figures.get(k, 0)) for k in ("offered", "answered", "abandoned")}


def test_offered_answered_abandoned_reach_redis_and_mqtt(
    hotline: Hotline, tone_ivr: Path, caller: Caller, store: redis.Redis
) -> None:
    general, total = live_keys.queue_key(TENANT, "general"), live_keys.total_key(TENANT)
    before, before_total = today(store, general), today(store, total)
    with MqttWatch() as mqtt:
        # talk_ms counts from the key: the rest of the menu, then the queue (and with
        # nobody logged in the offer of a callback first); the abandoning caller then
        # waits a few seconds in the queue before hanging up
        answered = caller.call("13900000301", "0", before_key_ms=1500, talk_ms=6000)
        assert answered.ok, answered.stdout[-2000:]
        for a in AGENTS:
            hotline.cli("agent", "logout", str(a["id"]))
        try:
            abandoned = caller.call("13900000302", "0", before_key_ms=1500, talk_ms=10_000)
        finally:
            for a in AGENTS:
                hotline.cli("agent", "login", str(a["id"]))
        assert abandoned.ok, abandoned.stdout[-2000:]
        want = {k: before[k] + d for k, d in (("offered", 2), ("answered", 1), ("abandoned", 1))}
        eventually(lambda: today(store, general) == want, f"general queue counts {want}")
        topic = live_keys.queue_topic(TENANT, "general")
        abandons = want["abandoned"]
        eventually(
            lambda: mqtt.on(topic) and mqtt.on(topic)[-1]["today"]["abandoned"] == abandons,
            "the abandon on MQTT",
        )
    # the bridge's call records agree with what the live numbers counted
    assert hotline.wait_call("13900000301")["disposition"] == "answered"
    assert hotline.wait_call("13900000302")["disposition"] == "abandoned_in_queue"
    want_total = {
        k: before_total[k] + d for k, d in (("offered", 2), ("answered", 1), ("abandoned", 1))
    }
    assert today(store, total) == want_total
    snap = snapshot(store, general)
    assert snap["waiting"] == 0
    assert snap["today"]["asa_seconds"] is not None
    assert store.hget(general, "abandoned") == str(want["abandoned"])  # flat fields too
    last = mqtt.on(topic)[-1]
    assert {k: last["today"][k] for k in want} == want
    # while the second caller waited, MQTT said so, with the number masked
    waiting = [m for m in mqtt.on(topic) if m["waiting"] == 1]
    assert waiting, "no MQTT message showed the waiting caller"
    assert waiting[-1]["callers"][0]["caller"] == "139******02"
    everything = b"".join(mqtt.raw)
    assert b"13900000301" not in everything and b"13900000302" not in everything
    assert "13900000302" not in json.dumps(hotline.get("/api/live/queues"))


def test_wallboard_shows_a_waiting_caller(
    hotline: Hotline, tone_ivr: Path, caller: Caller, no_agents: None, tmp_path: Path
) -> None:
    board = """JSON.stringify({
      link: document.getElementById('link').textContent,
      waiting: document.querySelector('[data-queue=general] .waiting')?.textContent,
      callers: document.querySelector('[data-queue=general] .callers')?.textContent,
      text: document.body.innerText})"""
    hotline.user("wallboard-screen", "supervisor")  # the screen on the wall logs in once
    with Browser(tmp_path) as browser:
        browser.login(
            hotline.api, "wallboard-screen", user_password("wallboard-screen"), "/wallboard"
        )

        def page() -> dict[str, str]:
            return dict(json.loads(browser.evaluate(board)))

        eventually(lambda: page()["link"] == "实时" and page()["waiting"] == "0", "board live")
        assert "综合" in page()["text"] and "排队中" in page()["text"]
        # long enough for the offer of a callback (nobody is logged in), then the queue
        call = caller.start("13900000201", "0", before_key_ms=1500, talk_ms=15_000)
        try:

            def waiting_shown() -> dict[str, str] | None:
                p = page()
                return p if p["waiting"] == "1" and "139******01" in p["callers"] else None

            shown = eventually(waiting_shown, "the waiting caller on the wallboard", timeout=60)
            shot = browser.screenshot(tmp_path / "wallboard.png")
            print(f"wallboard screenshot: {shot}")
        finally:
            result = call.wait(120)
        assert result.ok, result.stdout[-2000:]
        assert "13900000201" not in shown["text"]
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # the caller hung up: the board follows without a reload
        eventually(lambda: page()["waiting"] == "0", "the wallboard after the caller left")
