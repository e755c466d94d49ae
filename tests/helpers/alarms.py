"""Alarms as supervisors get them: MQTT hotline/+/alarm on the test hotline's own Mosquitto."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from tests.helpers.session_hotline import OWN_SERVICE_PORTS


class AlarmListener:
    """Collects hotline/+/alarm messages from the fixture's own Mosquitto."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", OWN_SERVICE_PORTS["mqtt"]) as client:
            await client.subscribe("hotline/+/alarm", qos=1)
            self.ready.set()
            while not self._stop.is_set():
                try:
                    msg = await asyncio.wait_for(anext(client.messages), 0.5)
                except TimeoutError:
                    continue
                self.messages.append(json.loads(bytes(msg.payload)))

    def __enter__(self) -> AlarmListener:
        self._thread.start()
        assert self.ready.wait(10), "could not subscribe to the alarm topic"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def wait_for(self, kind: str, timeout: float, linkedid: str = "") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if m["kind"] == kind and (not linkedid or m["linkedid"] == linkedid):
                    return m
            time.sleep(0.2)
        raise AssertionError(f"no {kind} alarm within {timeout:.0f}s; got {self.messages}")
