"""Every event the hotline's AMI user receives, collected in a thread, for tests to wait
for and count (test_emergency.py, test_dead_phones.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from pathlib import Path

from hotline.asterisk.ami import AmiClient
from hotline.asterisk.settings import AmiSettings
from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import Hotline


class AmiEvents:
    """Every event the hotline's AMI user receives, collected in a thread."""

    def __init__(self, hotline: Hotline) -> None:
        secrets = dict(
            line.split("=", 1)
            for line in (hotline.var / "secrets.env").read_text().splitlines()
            if "=" in line
        )
        self.settings = AmiSettings(port=PORTS["ami"], secret=secrets["HOTLINE_AMI__SECRET"])
        self.events: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        ami = AmiClient(self.settings)
        await ami.connect()
        await asyncio.wait_for(ami.logged_in.wait(), 10)
        self._ready.set()
        try:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    self.events.append(await asyncio.wait_for(ami.events.get(), 0.2))
        finally:
            ami.close()

    def __enter__(self) -> AmiEvents:
        self._thread.start()
        assert self._ready.wait(15), "AMI listener did not log in"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        # HOTLINE_AMI_CAPTURE=<dir>: keep the transcript (tests/fixtures/ami_linkage_*.txt)
        if out := os.environ.get("HOTLINE_AMI_CAPTURE"):
            path = Path(out) / f"ami-{time.time():.0f}.txt"
            path.write_text(
                "".join("".join(f"{k}: {v}\n" for k, v in e.items()) + "\n" for e in self.events),
                encoding="utf-8",
            )

    def named(self, name: str, **fields: str) -> list[dict[str, str]]:
        return [
            e
            for e in list(self.events)
            if e.get("Event") == name and all(e.get(k) == v for k, v in fields.items())
        ]

    def wait(
        self, name: str, count: int = 1, timeout: float = 30, **fields: str
    ) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.named(name, **fields)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} {name} {fields} not seen; saw {len(self.named(name))}")
