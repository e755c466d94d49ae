"""A thin interface over panoramisk's AMI Manager, so that it can be replaced.

Events arrive as plain dicts on an asyncio queue; actions return dicts or lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from panoramisk import Manager

from config.settings import AmiSettings

log = logging.getLogger(__name__)


class AmiClient:
    def __init__(self, settings: AmiSettings, *, queue_size: int = 100_000) -> None:
        self.settings = settings
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue(maxsize=queue_size)
        self.logged_in = asyncio.Event()
        self.dropped_events = 0
        self._manager: Any = None

    @property
    def connected(self) -> bool:
        m = self._manager
        return bool(m is not None and getattr(m, "_connected", False) and m.authenticated)

    async def connect(self) -> None:
        """Connect and keep reconnecting; returns at once (login happens in the background)."""
        loop = asyncio.get_running_loop()
        self._manager = Manager(
            loop=loop,
            host=self.settings.host,
            port=self.settings.port,
            username=self.settings.username,
            secret=self.settings.secret,
            ping_delay=10,
            reconnect_timeout=2,
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
        )
        self._manager.register_event("*", self._on_event)
        self._manager.connect()

    def _on_login(self, _manager: Any) -> None:
        # Ready only at FullyBooted, which Asterisk sends right after login: panoramisk
        # re-sends every pending action at that event, so an action sent between the
        # two would be sent twice and its reply lost.
        log.debug("AMI authenticated at %s:%s", self.settings.host, self.settings.port)

    def _on_disconnect(self, _manager: Any, exc: BaseException | None) -> None:
        log.warning("AMI connection lost (%s); reconnecting", exc or "closed")
        self.logged_in.clear()

    def _on_event(self, _manager: Any, message: Mapping[str, Any]) -> None:
        event = {str(k): str(v) for k, v in message.items()}
        if event.get("Event") == "FullyBooted" and not self.logged_in.is_set():
            log.info("AMI logged in at %s:%s", self.settings.host, self.settings.port)
            self.logged_in.set()
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped_events += 1
            log.error("AMI event queue full; dropped %s", event.get("Event"))

    async def action(
        self, action: Mapping[str, str], *, as_list: bool = False, timeout: float = 10.0
    ) -> Any:
        """Send an action; one reply dict, or a list for actions that answer with events.

        as_list is explicit because panoramisk guesses from the reply text (it takes
        "Added interface to queue" for the start of a list and waits forever).
        """
        if self._manager is None:
            raise ConnectionError("AMI not connected")
        await asyncio.wait_for(self.logged_in.wait(), timeout)
        return await asyncio.wait_for(
            self._manager.send_action(dict(action), as_list=as_list), timeout
        )

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None
