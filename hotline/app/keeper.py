"""One child process kept running: started, watched, started again with capped back-off.

A keeper knows its child is ready when the child says READY=1 on its notification socket
(hotline/kernel/notify.py; our services) or when a check passes (Asterisk, Redis,
Mosquitto). A child that said it is alive (WATCHDOG=1) and then stays quiet for longer than
its watchdog period is stalled: it is killed and started again like a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
STEADY_SECONDS = 60  # a child that ran this long after it was ready starts over at FIRST_DELAY
POLL = 0.25


@dataclass
class ChildState:
    """What `hotline status` shows of a kept child (var/run/services.json)."""

    name: str
    state: str = "stopped"  # starting, running, restarting, stopping, stopped
    pid: int | None = None
    restarts: int = 0
    since: float = field(default_factory=time.time)  # when it entered this state
    last_exit: str = ""  # why it last ended: "exit 1", "killed by signal 9", "stalled …"
    status: str = ""  # the child's own STATUS= line

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    notify_dir: Path | None = None  # None: readiness by ready_check, no watchdog
    watchdog_seconds: float | None = None
    start_timeout: float = 120
    restart_max: float = 30
    ready_check: Callable[[], Awaitable[bool]] | None = None
    stop: Callable[[int], Awaitable[None]] | None = None  # how to ask it to stop (else SIGTERM)
    before_start: Callable[[], Awaitable[None]] | None = None  # e.g. wait for a port to be free


class Keeper:
    def __init__(
        self,
        spec: ChildSpec,
        *,
        on_change: Callable[[Keeper], None],
        on_failure: Callable[[Keeper, str], None],
    ) -> None:
        self.spec = spec
        self.state = ChildState(spec.name)
        self.wanted = False
        self.ready = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_alive = 0.0
        self._on_change = on_change
        self._on_failure = on_failure
        self._sock: socket.socket | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def start(self) -> None:
        self.wanted = True
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep(), name=f"keep-{self.name}")

    async def stop(self, timeout: float = 20) -> None:
        """Ask the child to stop, kill it after `timeout`, and keep it stopped."""
        self.wanted = False
        self._wake.set()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            self._set("stopping")
            await self._ask_to_stop(proc)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                log.warning("%s did not stop within %.0f s: killed", self.name, timeout)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close_socket()

    async def restart(self) -> None:
        await self.stop()
        self.state.restarts += 1
        self.start()

    async def _ask_to_stop(self, proc: asyncio.subprocess.Process) -> None:
        try:
            if self.spec.stop is not None:
                await self.spec.stop(proc.pid)
            else:
                proc.send_signal(signal.SIGTERM)
        except (ProcessLookupError, OSError, TimeoutError) as exc:
            log.warning("could not ask %s to stop (%s): killed", self.name, exc)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    # ---- the loop ------------------------------------------------------------------
    async def _keep(self) -> None:
        delay = FIRST_DELAY
        while self.wanted:
            started = time.monotonic()
            reason = await self._run_once()
            if not self.wanted:
                break
            ready_for = time.monotonic() - started if self.ready.is_set() else 0
            if ready_for >= STEADY_SECONDS:
                delay = FIRST_DELAY
            self.state.restarts += 1
            self._set("restarting", last_exit=reason)
            self._on_failure(self, reason)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):  # `start` or `stop` cut the wait short
                await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, self.spec.restart_max)
        self._set("stopped")

    async def _run_once(self) -> str:
        """Start the child and watch it until it ends; why it ended ("" when asked to)."""
        self.ready.clear()
        try:
            proc = await self._spawn()
        except OSError as exc:
            return f"could not start: {exc}"
        started = time.monotonic()
        # one waiter for the child's life: each proc.wait() cancelled by a timeout would stay
        # in asyncio's list of exit waiters until the child ends (a leak of 4 a second)
        exited = asyncio.ensure_future(proc.wait())
        try:
            return await self._watch(proc, exited, started)
        finally:
            exited.cancel()

    async def _watch(
        self, proc: asyncio.subprocess.Process, exited: asyncio.Future[int], started: float
    ) -> str:
        while True:
            await asyncio.wait({exited}, timeout=POLL)
            if proc.returncode is not None:
                self.ready.clear()
                return "" if not self.wanted else _exit_reason(proc.returncode)
            if not self.wanted:
                continue  # stop() is ending it
            stalled = await self._check(started)
            if stalled:
                log.error("%s (pid %s) %s: killed", self.name, proc.pid, stalled)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await exited
                self.ready.clear()
                return stalled

    async def _check(self, started: float) -> str:
        now = time.monotonic()
        if not self.ready.is_set():
            if self.spec.ready_check is not None and await self.spec.ready_check():
                self._became_ready()
            elif now - started > self.spec.start_timeout:
                return f"not ready {self.spec.start_timeout:.0f} s after its start"
            return ""
        period = self.spec.watchdog_seconds
        if period is not None and self._last_alive and now - self._last_alive > period:
            return f"stalled (silent for {now - self._last_alive:.1f} s, watchdog {period:.0f} s)"
        return ""

    def _became_ready(self) -> None:
        self._last_alive = time.monotonic()
        self.ready.set()
        self._set("running")
        log.info("%s ready (pid %s)", self.name, self.pid)

    async def _spawn(self) -> asyncio.subprocess.Process:
        spec = self.spec
        if spec.before_start is not None:
            await spec.before_start()
        env = dict(os.environ if spec.env is None else spec.env)
        if spec.notify_dir is not None:
            env["NOTIFY_SOCKET"] = str(self._open_socket(spec.notify_dir))
            if spec.watchdog_seconds is not None:
                env["WATCHDOG_USEC"] = str(int(spec.watchdog_seconds * 1_000_000))
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as logf:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                stdout=logf,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the supervisor only
            )
        self._proc = proc
        self._last_alive = 0.0
        self._set("starting")
        log.info("started %s (pid %s): %s", self.name, proc.pid, " ".join(spec.argv))
        return proc

    # ---- notifications (READY=1, WATCHDOG=1, STATUS=…) --------------------------------
    def _open_socket(self, notify_dir: Path) -> Path:
        path = notify_dir / f"{self.name}.sock"
        if self._sock is None:
            notify_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.unlink(missing_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            sock.bind(str(path))
            sock.setblocking(False)
            asyncio.get_running_loop().add_reader(sock.fileno(), self._read_notes)
            self._sock = sock
        return path

    def _close_socket(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _read_notes(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.note(data.decode(errors="replace"))

    def note(self, message: str) -> None:
        for line in message.splitlines():
            key, _, value = line.partition("=")
            if key == "READY" and value == "1" and not self.ready.is_set():
                self._became_ready()
            elif key == "WATCHDOG" and value == "1":
                self._last_alive = time.monotonic()
            elif key == "STATUS":
                self.state.status = value[:200]
                self._on_change(self)

    def _set(self, state: str, *, last_exit: str | None = None) -> None:
        self.state.state = state
        self.state.pid = self.pid
        self.state.since = time.time()
        if last_exit is not None:
            self.state.last_exit = last_exit
        self._on_change(self)


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by {name}"
    return f"exit {returncode}"
