"""A thin interface over panoramisk's AMI Manager, so that it can be replaced.

Events arrive as plain dicts on an asyncio queue; actions return dicts or lists.

Keep-alive: panoramisk sends a Ping every 10 s but never looks at the answer, so a
link cut without a close (a firewall, a dead peer) goes unnoticed until TCP gives
up, a quarter of an hour later. Our watchdog sends its own Ping and drops a
connection that leaves it, or the login, unanswered for ami.ping_timeout_seconds;
panoramisk then connects again. Every login ends with a FullyBooted event on the
queue, which the users of this client take as "events may have been missed".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from panoramisk import Manager

from hotline.asterisk.settings import AmiSettings

log = logging.getLogger(__name__)


class AmiClient:
    def __init__(self, settings: AmiSettings, *, queue_size: int = 100_000) -> None:
        self.settings = settings
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue(maxsize=queue_size)
        self.logged_in = asyncio.Event()
        self.dropped_events = 0
        self.reconnects = 0  # connections dropped by the watchdog
        self._manager: Any = None
        self._watchdog: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[Any] | None = None

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
        self._first_attempt = self._manager.connect()
        self._watchdog = asyncio.create_task(self._keep_alive(), name="ami-keepalive")

    async def _keep_alive(self) -> None:
        every, timeout = self.settings.ping_every_seconds, self.settings.ping_timeout_seconds
        waiting_since: float | None = None  # connected (TCP) but not yet logged in
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every)
            m = self._manager
            if m is None or not getattr(m, "_connected", False):
                waiting_since = None  # panoramisk is connecting again on its own
                continue
            if not self.logged_in.is_set():
                waiting_since = waiting_since or loop.time()
                if loop.time() - waiting_since >= timeout:
                    self._drop(f"no login within {timeout:g}s")
                    waiting_since = None
                continue
            waiting_since = None
            try:
                await asyncio.wait_for(m.send_action({"Action": "Ping"}), timeout)
            except TimeoutError:
                if self._manager is m and self.logged_in.is_set():
                    self._drop(f"no answer to Ping within {timeout:g}s")
            except Exception as exc:  # the connection went while we waited
                log.debug("AMI ping failed: %s", exc)

    def _drop(self, reason: str) -> None:
        """Give up a silent connection; panoramisk's own reconnect takes over."""
        m = self._manager
        protocol = getattr(m, "protocol", None)
        if protocol is None or getattr(protocol, "closed", True):
            return
        self.reconnects += 1
        transport = protocol.transport
        # connection_lost (not close) is what makes panoramisk schedule the reconnect
        protocol.connection_lost(ConnectionAbortedError(reason))
        transport.abort()  # nothing buffered for a dead peer is worth waiting for

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

    async def wait_logged_in(self, timeout: float) -> None:
        """Until logged in; raises ConnectionError at once when the first connection is
        refused (nothing listens there), TimeoutError after `timeout` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        first = self._first_attempt
        if first is not None:
            await asyncio.wait({first}, timeout=timeout)
            exc = first.exception() if first.done() and not first.cancelled() else None
            if isinstance(exc, OSError):
                raise ConnectionError(
                    f"AMI at {self.settings.host}:{self.settings.port}: {exc}"
                ) from exc
        await asyncio.wait_for(self.logged_in.wait(), max(0.0, deadline - loop.time()))

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._manager is not None:
            self._manager.close()
            self._manager = None
