"""A fake AMI for the live service: recorded events fed by the test, QueueStatus answered."""

from __future__ import annotations

import asyncio
from typing import Any


class FakeAmi:
    """What LiveService uses of AmiClient: an event queue and QueueStatus."""

    def __init__(self, queue_status: list[dict[str, str]] | None = None) -> None:
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.queue_status = queue_status or []
        self.actions: list[dict[str, str]] = []

    async def action(self, action: dict[str, str], **_: Any) -> list[dict[str, str]]:
        self.actions.append(action)
        return [{"Response": "Success", "EventList": "start"}, *self.queue_status]

    def close(self) -> None:
        pass
