"""The services as they run inside one process: `hotline serve NAME` runs one of them (its
own OS process, which `hotline up` or systemd keeps); each starts here and returns the task
that runs it once it is ready (listening, logged in).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

from hotline.app.errors import StartError
from hotline.app.tables import open_engine
from hotline.config.settings import Settings
from hotline.kernel.service_names import OUR_SERVICES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hotline.asterisk.ami import AmiClient


log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: `serve` owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Services:
    def __init__(self, settings: Settings, services: tuple[str, ...]) -> None:
        self.settings = settings
        self.services = services

    async def start_services(self) -> list[asyncio.Task[Any]]:
        """The chosen services but Asterisk (run starts it), each as a task named after it,
        in the order of ALL_SERVICES."""
        starters = self.starters()
        chosen = [n for n in OUR_SERVICES if n in self.services]
        return [await starters[name]() for name in chosen]

    def starters(self) -> dict[str, Callable[[], Awaitable[asyncio.Task[Any]]]]:
        """How each service but Asterisk starts: a task named after it."""
        return {
            "agi": self._start_agi,
            "bridge": self._start_bridge,
            "acd": self._start_acd,
            "live": self._start_live,
            "callbacks": self._start_callbacks,
            "duty": self._start_duty,
            "speech": self._start_speech,
            "recordings": self._start_recordings,
            "transcripts": self._start_transcripts,
            "upstream": self._start_upstream,
            "api": self._start_api,
        }

    @functools.cached_property
    def engine(self) -> Engine:
        """The services' engine (the FastAGI server opens its own)."""
        return open_engine(self.settings)

    async def _start_agi(self) -> asyncio.Task[Any]:
        from hotline.agi.worker import make_agi_server

        agi = make_agi_server(self.settings, open_engine(self.settings))
        await agi.start()
        return asyncio.create_task(agi.serve_forever(), name="agi")

    async def _start_bridge(self) -> asyncio.Task[Any]:
        """The CRM bridge and its AMI connection, once logged in (30 s at most)."""
        from hotline.crm_bridge.worker import BridgeService

        s = self.settings
        ami = await self._ami()
        task = asyncio.create_task(BridgeService(s, self.engine, ami).run(), name="bridge")
        try:
            await asyncio.wait_for(ami.logged_in.wait(), 30)
        except TimeoutError as exc:
            raise StartError(
                f"the bridge could not log in to AMI at {s.ami.host}:{s.ami.port}"
            ) from exc
        return task

    # acd, live, callbacks, duty: each on an AMI connection of its own (the bridge drains
    # its connection's events; its event queue is the bridge's alone)
    async def _start_acd(self) -> asyncio.Task[Any]:
        from hotline.acd.worker import AgentService

        agents = AgentService(self.settings, self.engine, await self._ami())
        return asyncio.create_task(agents.run(), name="acd")

    async def _start_live(self) -> asyncio.Task[Any]:
        from hotline.acd.worker import LiveService

        return asyncio.create_task(LiveService(self.settings, await self._ami()).run(), name="live")

    async def _start_callbacks(self) -> asyncio.Task[Any]:
        from hotline.acd.worker import CallbackService

        callbacks = CallbackService(self.settings, self.engine, await self._ami())
        return asyncio.create_task(callbacks.run(), name="callbacks")

    async def _start_duty(self) -> asyncio.Task[Any]:
        from hotline.workorders.worker import DutyCallService

        duty = DutyCallService(self.settings, self.engine, await self._ami())
        return asyncio.create_task(duty.run(), name="duty")

    async def _ami(self) -> AmiClient:
        """A new AMI connection (its own event queue)."""
        from hotline.asterisk.ami import AmiClient

        ami = AmiClient(self.settings.ami)
        await ami.connect()
        return ami

    async def _start_speech(self) -> asyncio.Task[Any]:
        from hotline.agi.phrases import menu_phrase_check
        from hotline.speech.worker import SpeechService

        speech = SpeechService(self.settings, menu_phrase_check(self.settings))
        await speech.start()
        return asyncio.create_task(speech.serve_forever(), name="speech")

    # recordings, transcripts, upstream: database workers, no connection of their own
    async def _start_recordings(self) -> asyncio.Task[Any]:
        from hotline.recordings.worker import RecordingWorker

        worker = RecordingWorker(self.settings, self.engine)
        return asyncio.create_task(worker.run(), name="recordings")

    async def _start_transcripts(self) -> asyncio.Task[Any]:
        from hotline.speech.worker import TranscriptionWorker

        worker = TranscriptionWorker(self.settings, self.engine)
        return asyncio.create_task(worker.run(), name="transcripts")

    async def _start_upstream(self) -> asyncio.Task[Any]:
        from hotline.crm_bridge.upstream.worker import UpstreamSender

        sender = UpstreamSender(self.settings, self.engine)
        return asyncio.create_task(sender.run(), name="upstream")

    async def _start_api(self) -> asyncio.Task[Any]:
        """The HTTP API, once it listens (20 s at most)."""
        from hotline.app.api import create_app

        s = self.settings
        app = create_app(s, self.engine)
        server = _QuietServer(
            uvicorn.Config(
                app, host=s.api.host, port=s.api.port, log_level="warning", lifespan="off"
            )
        )
        task = asyncio.create_task(server.serve(), name="api")
        await self._wait_api(server)
        return task

    async def _wait_api(self, server: uvicorn.Server) -> None:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise StartError(f"the API did not start on {self.settings.api.port}")
            await asyncio.sleep(0.05)

    async def run(self) -> int:
        """Start the services, tell the keeper they are ready and alive, and run until one
        ends (exit 1: the keeper starts it again) or SIGTERM (exit 0)."""
        import signal

        from hotline.kernel import notify
        from hotline.kernel.alarms import relay_forever

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        tasks = await self.start_services()
        notify.ready()
        alive = asyncio.create_task(notify.keep_telling_alive(), name="watchdog")
        # every process delivers the alarms that waited for MQTT (kernel/alarm_spool.py)
        relay = asyncio.create_task(relay_forever(self.settings), name="alarm-relay")
        stop_wait = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stop_wait]
        for t in failed:
            exc = t.exception() if not t.cancelled() else None
            log.error("service %s ended: %r", t.get_name(), exc)
        notify.stopping()
        for t in (*tasks, alive, relay, stop_wait):
            t.cancel()
        await asyncio.gather(*tasks, alive, relay, stop_wait, return_exceptions=True)
        return 1 if failed else 0
