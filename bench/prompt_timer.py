"""IVR first-prompt delay from AMI (part of measurement 2).

For each call: from the end of Answer() (the next dialplan step, shared by both
flows: setting HOTLINE_RECORDING) to the first prompt starting: the engine's
`STREAM FILE` (AGIExecStart) or the reference's `Read` (Newexten). Answer() itself
waits up to 500 ms for the caller's first RTP packet, which times SIPp, not us.
Both times are Asterisk's own event timestamps, so a slow listener does not change
the figure. Uses the read-only bench AMI user (manager.conf.j2).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from panoramisk import Manager

from bench.harness import BenchHotline


class PromptTimer:
    def __init__(self, h: BenchHotline, welcome: str = "hotline/bench-welcome") -> None:
        self.h, self.welcome = h, welcome
        self.up: dict[str, float] = {}
        self.prompt: dict[str, float] = {}
        self.prefix = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="prompt-timer", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the bench AMI user could not log in")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        manager = Manager(
            loop=self._loop,
            host=self.h.settings.ami.host,
            port=self.h.settings.ami.port,
            username="hotline-bench",
            secret=self.h.ami_secret,
            ping_delay=10,
        )
        manager.register_event("*", self._on_event)
        manager.connect()
        self._manager = manager
        self._loop.run_forever()

    def _on_event(self, _manager: Any, e: Mapping[str, Any]) -> None:
        name = e.get("Event")
        if name == "FullyBooted":
            self._ready.set()
            return
        if not self.prefix or not str(e.get("CallerIDNum", "")).startswith(self.prefix):
            return
        uid, ts = str(e.get("Uniqueid")), float(e.get("Timestamp", 0))
        if (
            name == "Newexten"
            and e.get("Application") == "Set"
            and str(e.get("AppData", "")).startswith("HOTLINE_RECORDING=")
        ):
            self.up.setdefault(uid, ts)
        elif (
            name == "AGIExecStart"
            and str(e.get("Command", "")).startswith("STREAM FILE")
            and self.welcome in str(e.get("Command", ""))
        ) or (
            name == "Newexten"
            and e.get("Application") in ("Read", "Background", "Playback")
            and self.welcome in str(e.get("AppData", ""))
        ):
            self.prompt.setdefault(uid, ts)

    def start(self, prefix: str) -> None:
        self.up.clear()
        self.prompt.clear()
        self.prefix = prefix

    def delays_ms(self) -> list[float]:
        self.prefix = ""
        return [(self.prompt[u] - t) * 1000 for u, t in self.up.items() if u in self.prompt]

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._manager.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
