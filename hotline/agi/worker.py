"""The FastAGI server on asyncio streams: one task per call, routes by script name.

Whatever a peer does (port scan, half a header, garbage, a hung route) affects only
its own connection. A call whose route fails is sent to the general queue; a call
that takes too long is cut off. Asterisk's AGISTATUS is SUCCESS then, so the dialplan goes
by what the route set: an ivr route cut off set no HOTLINE_IVR_RESULT, which the dialplan
makes agi-cut, and the call goes to the general queue.

Beside the server runs `MessageSweep` (agi/message_sweep.py): the work orders of messages
left while the database or this server was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from hotline.acd.settings import WaitingSettings
from hotline.acd.widening import LiveServiceLevel
from hotline.agi.channel import AGIChannel
from hotline.agi.duty import DbDutyBook, DutyBook, NoDutyBook, duty
from hotline.agi.errors import AGIError, AGIHangup, AGIProtocolError
from hotline.agi.ivr import ivr
from hotline.agi.menu import menu_file
from hotline.agi.message_sweep import MESSAGES_SUBDIR, MessageSweep
from hotline.agi.protocol import parse_headers
from hotline.agi.reload import PID_FILE, ConfigStore
from hotline.agi.services import DbServices, IvrServices, NoServices
from hotline.agi.settings import AgiConfig, AgiSettings
from hotline.agi.speech import SpeechClient, supervisor_flag
from hotline.agi.survey import survey
from hotline.agi.tree import IvrConfig, load_ivr
from hotline.agi.waiting import WaitRules, callback, message
from hotline.asterisk.variables import (
    GENERAL_QUEUE,
    HOTLINE_HANGUP,
    HOTLINE_IVR_RESULT,
    HOTLINE_QUEUE,
    HOTLINE_TRANSFER,
    RESULT_ERROR,
)
from hotline.kernel.errors import ConfigError
from hotline.kernel.masking import mask_number
from hotline.workorders.settings import DutyCallSettings

__all__ = [
    "FastAGIServer",
    "Handler",
    "MessageSweep",
    "build_routes",
    "config_loader",
    "make_agi_server",
    "pid_file",
]

log = logging.getLogger(__name__)

Handler = Callable[[AGIChannel], Awaitable[None]]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The whole header block must fit (Asterisk's is about 1 KiB); also caps a response line.
STREAM_LIMIT = 8 * 1024


class FastAGIServer:
    def __init__(
        self,
        settings: AgiSettings,
        routes: Mapping[str, Handler],
        *,
        store: ConfigStore | None = None,
        sweep: MessageSweep | None = None,
    ) -> None:
        self._settings = settings
        self._routes = dict(routes)
        self._allowed = _parse_peers(settings.allowed_peers)
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()
        # with a store: SIGHUP reloads the IVR, and run_dir/agi.pid names this process
        self._store = store
        self._sighup = False
        # messages whose order could not be made during the call (agi/message_sweep.py)
        self._sweep = sweep
        self._sweep_task: asyncio.Task[None] | None = None

    @property
    def bound_port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the FastAGI server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._on_connect, self._settings.host, self._settings.port, limit=STREAM_LIMIT
        )
        log.info(
            "FastAGI listening on %s:%d, routes: %s",
            self._settings.host,
            self.bound_port,
            ", ".join(sorted(self._routes)),
        )
        if self._store is not None:
            self._watch_reload(self._store)
        if self._sweep is not None:
            self._sweep_task = asyncio.create_task(self._sweep.run(), name="message-sweep")

    def _watch_reload(self, store: ConfigStore) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, store.reload)
            self._sighup = True
        if store.run_dir is not None:
            store.run_dir.mkdir(parents=True, exist_ok=True)
            (store.run_dir / PID_FILE).write_text(f"{os.getpid()}\n")

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        try:
            await self._server.serve_forever()
        finally:
            await self._stop_sweep()

    async def run(self) -> None:
        """Serve until cancelled, then stop listening and end the calls in progress."""
        try:
            await self.serve_forever()
        finally:
            await self.close()

    def status(self) -> dict[str, object]:
        """Whether it listens and where, the calls in progress, the routes."""
        listening = self._server is not None and bool(self._server.sockets)
        return {
            "listening": listening,
            "port": self.bound_port if listening else None,
            "calls": len(self._calls),
            "routes": sorted(self._routes),
        }

    async def close(self) -> None:
        """Stop listening and end the calls in progress (their dialplan falls back)."""
        await self._stop_sweep()
        if self._server is None:
            return
        if self._sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._sighup = False
        if self._store is not None and self._store.run_dir is not None:
            pid = self._store.run_dir / PID_FILE
            with contextlib.suppress(OSError, ValueError):
                if int(pid.read_text()) == os.getpid():
                    pid.unlink()
        self._server.close()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _stop_sweep(self) -> None:
        task, self._sweep_task = self._sweep_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # One connection ------------------------------------------------------
    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if peer else "?"
        try:
            if not self._peer_allowed(host):
                log.warning("FastAGI connection from %s refused: not in agi.allowed_peers", host)
                return
            channel = await self._read_headers(reader, writer, host)
            if channel is None:
                return
            try:
                async with asyncio.timeout(self._settings.call_timeout_seconds):
                    await self._dispatch(channel)
            except TimeoutError:
                log.warning(
                    "call %s: route %r still running after %g s; connection closed",
                    channel.uniqueid,
                    channel.script,
                    self._settings.call_timeout_seconds,
                )
        except Exception:  # a last guard: one connection must never harm the others
            log.exception("FastAGI connection from %s failed", host)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._calls.discard(task)

    async def _read_headers(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> AGIChannel | None:
        try:
            async with asyncio.timeout(self._settings.header_timeout_seconds):
                block = await reader.readuntil(b"\n\n")
            headers = parse_headers(block)
        except TimeoutError:
            log.warning("FastAGI peer %s sent no complete header in time; dropped", host)
        except asyncio.IncompleteReadError:
            log.info("FastAGI peer %s closed before the end of the header; dropped", host)
        except asyncio.LimitOverrunError:
            log.warning("FastAGI peer %s sent a header over %d bytes; dropped", host, STREAM_LIMIT)
        except AGIProtocolError as exc:
            log.warning("FastAGI peer %s sent no AGI header (%s); dropped", host, exc.message)
        except ConnectionError:
            log.info("FastAGI peer %s: connection lost during the header", host)
        else:
            return AGIChannel(reader, writer, headers)
        return None

    async def _dispatch(self, channel: AGIChannel) -> None:
        script = channel.script
        log.info(
            "call %s from %s: route %r",
            channel.uniqueid,
            mask_number(channel.callerid),
            script,
        )
        handler = self._routes.get(script)
        if handler is None:
            log.error("call %s: unknown AGI route %r", channel.uniqueid, script)
            await _fall_back(channel)
            return
        try:
            await handler(channel)
        except AGIHangup:
            log.info("call %s: caller hung up during route %r", channel.uniqueid, script)
        except Exception:
            log.exception("call %s: route %r failed", channel.uniqueid, script)
            await _fall_back(channel)
        else:
            log.debug("call %s: route %r done", channel.uniqueid, script)

    def _peer_allowed(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self._allowed)


async def _fall_back(channel: AGIChannel) -> None:
    """Send the call to the general queue, if the channel still listens."""
    try:
        await channel.set_variable(HOTLINE_QUEUE, GENERAL_QUEUE)
        await channel.set_variable(HOTLINE_TRANSFER, "")
        await channel.set_variable(HOTLINE_HANGUP, "")
        await channel.set_variable(HOTLINE_IVR_RESULT, RESULT_ERROR)
    except (AGIError, AGIHangup, OSError) as exc:
        log.warning("call %s: could not set the fallback queue: %s", channel.uniqueid, exc)


def _parse_peers(peers: list[str]) -> list[IPNetwork]:
    out: list[IPNetwork] = []
    for peer in peers:
        try:
            out.append(ipaddress.ip_network(peer, strict=False))
        except ValueError:
            raise ConfigError(
                f"agi.allowed_peers: {peer!r} is not an IP address or network "
                "(e.g. 127.0.0.1, ::1, 10.0.0.0/24)"
            ) from None
    return out


def build_routes(
    ivr_config: IvrConfig | ConfigStore,
    services: IvrServices | None = None,
    waiting: WaitRules | None = None,
    duty_book: DutyBook | None = None,
    duty_rules: DutyCallSettings | None = None,
    speech: SpeechClient | None = None,
) -> dict[str, Handler]:
    """Every AGI route by the name the dialplan uses: AGI(agi://host:port/<name>).

    Without `waiting` rules no offer is made on joining a queue (unit tests, the bench).
    """
    store = ivr_config if isinstance(ivr_config, ConfigStore) else ConfigStore(lambda: ivr_config)
    svc: IvrServices = services if services is not None else NoServices()
    rules = waiting if waiting is not None else WaitRules(WaitingSettings())
    return {
        "ivr": partial(ivr, store=store, services=svc, waiting=waiting, speech=speech),
        "survey": partial(survey, store=store, services=svc),
        "callback": partial(callback, store=store, services=svc, rules=rules),
        "message": partial(message, store=store, services=svc),
        "duty": partial(
            duty,
            store=store,
            book=duty_book if duty_book is not None else NoDutyBook(),
            rules=duty_rules if duty_rules is not None else DutyCallSettings(),
        ),
    }


SOUNDS_REL = "usr/share/asterisk/sounds"


def config_loader(settings: AgiConfig) -> Callable[[], IvrConfig]:
    """Load hotline/config/ivr.yaml (or HOTLINE_IVR_FILE), checking prompts against the root."""
    sounds = settings.root / SOUNDS_REL
    queues = settings.queue_names()

    def load() -> IvrConfig:
        return load_ivr(menu_file(), queues, sounds if sounds.is_dir() else None)

    return load


def make_agi_server(settings: AgiConfig, engine: Engine) -> FastAGIServer:
    """The FastAGI server with the IVR, the database services and reload on SIGHUP."""
    store = ConfigStore(config_loader(settings), settings.run_dir)
    services = DbServices(
        engine,
        ZoneInfo(settings.timezone),
        settings.root / SOUNDS_REL,
        f"{store.current.prompt_dir or 'hotline'}/tts",
        settings.root,
        settings.agi,
    )
    routes = build_routes(
        store,
        services,
        WaitRules.from_settings(settings, LiveServiceLevel(settings)),
        DbDutyBook(settings, engine),
        settings.duty_calls,
        SpeechClient.from_settings(settings, supervisor_flag(settings)),
    )
    sweep = MessageSweep(
        engine,
        root=settings.root,
        messages_dir=PurePosixPath(settings.recordings_dir) / MESSAGES_SUBDIR,
        tz=ZoneInfo(settings.timezone),
    )
    return FastAGIServer(settings.agi, routes, store=store, sweep=sweep)


def pid_file(settings: AgiConfig) -> Path:
    return settings.run_dir / PID_FILE
