"""`hotline up`: start what is missing (Redis, Mosquitto, Asterisk) and keep every service
running, each its own OS process (`hotline serve NAME`), started again when it fails.

Children we start are recorded in var/run/children.json so that `hotline down` stops them,
and nothing else; their states are in var/run/services.json for `hotline status`;
`hotline service …` and `hotline down` talk to the supervisor on var/run/control.sock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.app import render
from hotline.app.drain import asterisk_rx, drain_asterisk
from hotline.app.errors import StartError
from hotline.app.health import asterisk_ok, tcp_open
from hotline.app.keeper import ChildSpec, Keeper
from hotline.app.service_state import (
    control_socket,
    restart_alarm,
    services_file,
    write_services,
)
from hotline.asterisk import prompts
from hotline.asterisk import root as asterisk_root
from hotline.config.settings import Settings
from hotline.kernel.db import upgrade
from hotline.kernel.service_names import ALL_SERVICES as ALL_SERVICES
from hotline.kernel.service_names import OUR_SERVICES

# the word that must be in a child's /proc/PID/cmdline before `hotline down` signals it
MATCH = {"asterisk": "asterisk", "redis": "redis-server", "mosquitto": "mosquitto"}

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    pid: int
    match: str  # a word that must be in /proc/PID/cmdline before we signal it


def _children_file(settings: Settings) -> Path:
    return settings.run_dir / "children.json"


def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "hotline.pid"


def _ready_file(settings: Settings) -> Path:
    return settings.run_dir / "ready"


def pid_alive(pid: int, match: str = "") -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    if ") Z" in stat:
        return False
    return match in cmdline


def exiting_or_alive(pid: int) -> bool:
    """Whether the process still holds what it had: it exists and is no zombie. While a
    process exits its command line reads empty (pid_alive says no) before its files and
    sockets are closed; waiting on this, a stop returns once its ports are free."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return ") Z" not in stat and ") X" not in stat


def _wait_gone(pid: int, deadline: float) -> None:
    while time.monotonic() < deadline and exiting_or_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)


def running_supervisor(settings: Settings) -> int | None:
    path = _pid_file(settings)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid, "hotline") else None


def redis_command(settings: Settings, exe: str) -> list[str]:
    """A Redis of our own: loopback, nothing saved (the state is rebuilt from Asterisk)."""
    data = settings.var_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    r = settings.redis
    return [
        *(exe, "--bind", r.host, "--port", str(r.port)),
        *("--save", "", "--appendonly", "no", "--dir", str(data)),
    ]


class Supervisor:
    """Keeps Redis, Mosquitto (where it started them), Asterisk and each service running, each
    its own OS process; stops them, Asterisk after a drain, when asked."""

    def __init__(self, settings: Settings, services: tuple[str, ...] = ALL_SERVICES) -> None:
        self.settings = settings
        self.services = services
        self.keepers: dict[str, Keeper] = {}
        self.children: list[Child] = []
        self._stop = asyncio.Event()
        self._drain_now = asyncio.Event()
        self._drain_seconds: float = settings.runtime.drain_seconds
        self._background: set[asyncio.Task[Any]] = set()
        self._control: asyncio.Server | None = None

    # ---- what is kept ---------------------------------------------------------------
    def _keep(self, spec: ChildSpec) -> Keeper:
        keeper = Keeper(spec, on_change=self._changed, on_failure=self._failed)
        self.keepers[spec.name] = keeper
        keeper.start()
        return keeper

    def _changed(self, keeper: Keeper) -> None:
        if keeper.state.state == "starting" and keeper.pid is not None:
            match = MATCH.get(keeper.name, f"serve {keeper.name}")
            self.children = [c for c in self.children if c.name != keeper.name]
            self.children.append(Child(keeper.name, keeper.pid, match))
            self._save_children()
        write_services(self.settings, {k.name: k.state.as_dict() for k in self.keepers.values()})

    def _failed(self, keeper: Keeper, reason: str) -> None:
        from hotline.kernel.alarms import publish

        log.error("%s ended (%s); starting it again", keeper.name, reason)
        alarm = restart_alarm(
            keeper.name,
            f"{keeper.name} ended ({reason}); started again "
            f"({keeper.state.restarts} restarts since `hotline up`)",
        )
        task = asyncio.create_task(publish(self.settings, alarm))  # MQTT may take seconds
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _save_children(self) -> None:
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        path = _children_file(self.settings)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([c.__dict__ for c in self.children]))
        tmp.replace(path)  # read by `hotline down` and the tests while it changes

    async def _ready(self, keeper: Keeper, timeout: float, restarts: int = 0) -> None:
        """Wait for a child's start; one that ends before it was ready (more restarts than
        `restarts`, those before this start) fails `up` or `hotline service start`."""
        deadline = time.monotonic() + timeout
        while not keeper.ready.is_set():
            if keeper.state.restarts > restarts:
                raise StartError(
                    f"{keeper.name} failed at start ({keeper.state.last_exit}); "
                    f"see {keeper.spec.log_path}"
                )
            if time.monotonic() > deadline:
                raise StartError(f"{keeper.name} was not ready within {timeout:.0f} s")
            await asyncio.sleep(0.1)

    # ---- Redis, Mosquitto, Asterisk ---------------------------------------------------
    async def _start_redis(self) -> None:
        r = self.settings.redis
        if await tcp_open(r.host, r.port) or not r.start_if_absent:
            return
        exe = shutil.which("redis-server")
        if not exe:
            raise StartError(
                f"nothing answers on redis {r.host}:{r.port} and redis-server is not installed "
                "(apt-get install -y redis-server)"
            )
        await self._start_server("redis", redis_command(self.settings, exe), r.host, r.port)

    async def _start_mqtt(self) -> None:
        m = self.settings.mqtt
        if await tcp_open(m.host, m.port) or not m.start_if_absent:
            return
        # Debian puts mosquitto in /usr/sbin, which a user's PATH may lack
        exe = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin")
        if not exe:
            raise StartError(
                f"nothing answers on MQTT {m.host}:{m.port} and mosquitto is not installed "
                "(apt-get install -y mosquitto)"
            )
        conf = self.settings.run_dir / "mosquitto.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"listener {m.port} {m.host}\nallow_anonymous true\npersistence false\n")
        await self._start_server("mosquitto", [exe, "-c", str(conf)], m.host, m.port)

    async def _start_server(self, name: str, argv: list[str], host: str, port: int) -> None:
        async def answers() -> bool:
            return await tcp_open(host, port)

        spec = self._spec(name, argv, ready_check=answers, start_timeout=20)
        await self._ready(self._keep(spec), 20)

    def _spec(self, name: str, argv: list[str], **kw: Any) -> ChildSpec:
        return ChildSpec(
            name,
            argv,
            self.settings.log_dir / f"{name}.log",
            restart_max=self.settings.runtime.restart_max_seconds,
            **kw,
        )

    async def _start_asterisk(self) -> None:
        s = self.settings
        root = await asyncio.to_thread(asterisk_root.install, s)
        await asyncio.to_thread(render.render_all, s)
        await asyncio.to_thread(prompts.generate, s)
        running, _ = await asyncio.to_thread(asterisk_ok, s)
        if running:
            log.info("Asterisk already runs in %s: reloading its configuration", root)
            await self._asterisk_rx("core reload", timeout=30)
            return
        asterisk_root.ensure_proc(root)

        async def booted() -> bool:
            up, _ = await asyncio.to_thread(asterisk_ok, s)
            return up and await tcp_open(s.ami.host, s.ami.port)

        async def stop_now(_pid: int) -> None:
            await self._asterisk_rx("core stop now", timeout=15)

        spec = self._spec(
            "asterisk",
            asterisk_root.asterisk_cmd(root, "-f", "-n"),
            ready_check=booted,
            stop=stop_now,
            before_start=functools.partial(_control_socket_free, root),
            start_timeout=90,
        )
        await self._ready(self._keep(spec), 90)
        await self._asterisk_rx("core waitfullybooted", timeout=30)

    async def _asterisk_rx(self, command: str, timeout: float = 15) -> str:
        return await asterisk_rx(self.settings, command, timeout)

    # ---- control (hotline service …, hotline down) --------------------------------------
    async def _serve_control(self) -> None:
        path = control_socket(self.settings)
        path.unlink(missing_ok=True)
        self._control = await asyncio.start_unix_server(self._on_control, path=str(path))
        path.chmod(0o600)

    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads(await reader.readline())
            reply = await self._do(request)
        except (ValueError, TypeError, AttributeError) as exc:
            reply = {"ok": False, "error": f"bad request: {exc}"}
        writer.write(json.dumps(reply).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _do(self, request: dict[str, Any]) -> dict[str, Any]:
        what = request.get("do")
        if what == "down":
            self.request_stop(float(request.get("drain_seconds", self._drain_seconds)))
            return {"ok": True}
        if what == "status":
            return {"ok": True, "services": {k: v.state.as_dict() for k, v in self.keepers.items()}}
        name = str(request.get("service", ""))
        if what not in ("start", "stop", "restart") or name not in OUR_SERVICES:
            return {
                "ok": False,
                "error": f"do: start|stop|restart|status|down; service: {OUR_SERVICES}",
            }
        keeper = self.keepers.get(name)
        restarts = keeper.state.restarts if keeper is not None else 0
        if what == "restart":
            restarts += 1  # restart() counts itself
        if keeper is None:
            if what == "stop":
                return {"ok": True, "service": {"name": name, "state": "stopped"}}
            keeper = self._keep(self._service_spec(name))
        elif what == "stop":
            await keeper.stop()
        elif what == "restart":
            await keeper.restart()
        else:
            keeper.start()
        if what != "stop":
            try:
                await self._ready(keeper, self.settings.runtime.start_timeout_seconds, restarts)
            except StartError as exc:
                return {"ok": False, "error": str(exc)}
        return {"ok": True, "service": keeper.state.as_dict()}

    def request_stop(self, drain_seconds: float) -> None:
        """The first request stops after a drain of at most `drain_seconds`; a second one
        (Ctrl-C twice, `hotline down --now`) cuts the drain short."""
        if self._stop.is_set():
            self._drain_now.set()
            return
        self._drain_seconds = drain_seconds
        if drain_seconds <= 0:
            self._drain_now.set()
        self._stop.set()

    # ---- services ---------------------------------------------------------------------
    def _service_spec(self, name: str) -> ChildSpec:
        rt = self.settings.runtime
        return self._spec(
            name,
            [sys.executable, "-m", "hotline", "serve", name, "--no-migrate"],
            notify_dir=self.settings.run_dir / "notify",
            watchdog_seconds=rt.agi_watchdog_seconds if name == "agi" else rt.watchdog_seconds,
            start_timeout=rt.start_timeout_seconds,
        )

    async def run(self, on_ready: Callable[[], Awaitable[None]] | None = None) -> None:
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        _ready_file(s).unlink(missing_ok=True)
        _pid_file(s).write_text(str(os.getpid()))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: self.request_stop(self._drain_seconds))
        from hotline.kernel.alarms import relay_forever

        relay = asyncio.create_task(relay_forever(s), name="alarm-relay")  # its own restarts
        self._background.add(relay)
        try:
            await self._serve_control()
            await self._start_redis()
            await self._start_mqtt()
            if "asterisk" in self.services:
                await self._start_asterisk()
                await self._asterisk_rx("database del hotline draining")  # a drain left over
            render.ensure_secrets(s)
            await asyncio.to_thread(upgrade, s.db_url)
            chosen = [n for n in OUR_SERVICES if n in self.services]
            for name in chosen:
                self._keep(self._service_spec(name))
            for name in chosen:
                await self._ready(self.keepers[name], s.runtime.start_timeout_seconds)
            _ready_file(s).write_text(str(time.time()))
            log.info(
                "hotline ready: call %s on %s:%s", s.sip.hotline_number, s.sip.host, s.sip.port
            )
            if on_ready:
                await on_ready()
            await self._stop.wait()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        s = self.settings
        asterisk = self.keepers.get("asterisk")
        if asterisk is not None and asterisk.ready.is_set() and self._stop.is_set():
            await drain_asterisk(self.settings, self._drain_seconds, cut_short=self._drain_now)
        # Asterisk first: the bridge still hears the last hang-ups
        order = ["asterisk", *reversed(OUR_SERVICES), "mosquitto", "redis"]
        for group in (order[:1], order[1:-2], order[-2:]):
            await asyncio.gather(*(self.keepers[n].stop() for n in group if n in self.keepers))
        if self._control is not None:
            self._control.close()
        for task in self._background:
            task.cancel()
        recorded = {c.pid: c for c in recorded_children(s)}  # a child replaced meanwhile
        for child in recorded.values():
            stop_child(s, child)
        self.children.clear()
        self._save_children()
        for path in (_ready_file(s), _pid_file(s), control_socket(s), services_file(s)):
            path.unlink(missing_ok=True)
        log.info("hotline stopped")


async def _control_socket_free(root: Path, timeout: float = 15) -> None:
    """After a SIGKILL, Asterisk's threads hold its control socket a moment longer than its
    main process lives; an Asterisk started then says "already running" and exits."""
    path = root / "var/run/asterisk/asterisk.ctl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_unix_connection(str(path))
        except OSError:
            return
        writer.close()
        await asyncio.sleep(0.2)
    log.warning("%s still answers after %.0f s; starting Asterisk anyway", path, timeout)


def stop_child(settings: Settings, child: Child, timeout: float = 20) -> None:
    if not pid_alive(child.pid, child.match):
        return
    if child.name == "asterisk":
        subprocess.run(
            asterisk_root.asterisk_cmd(settings.root, "-rx", "core stop now"),
            capture_output=True,
            timeout=15,
            check=False,
        )
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGTERM)
    _wait_gone(child.pid, time.monotonic() + timeout)  # until its ports are free
    if pid_alive(child.pid, child.match):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        _wait_gone(child.pid, time.monotonic() + 5)


def recorded_children(settings: Settings) -> list[Child]:
    try:
        rows = json.loads(_children_file(settings).read_text())
    except (OSError, ValueError):
        return []
    return [Child(**r) for r in rows]


def down(settings: Settings, drain_seconds: float | None = None) -> list[str]:
    """Stop a running `hotline up` and whatever it started; return what was stopped. New
    calls are refused at once; the calls in progress may go on for `drain_seconds` (the
    settings' runtime.drain_seconds when None; 0 cuts them)."""
    from hotline.app.service_state import control

    stopped = []
    pid = running_supervisor(settings)
    if pid is not None:
        drain = settings.runtime.drain_seconds if drain_seconds is None else drain_seconds
        try:
            control(settings, {"do": "down", "drain_seconds": drain}, timeout=10)
        except (OSError, ValueError):  # an older or stuck supervisor: its SIGTERM drains
            os.kill(pid, signal.SIGTERM)
        _wait_gone(pid, time.monotonic() + drain + 90)  # until its children's ports are free
        if pid_alive(pid, "hotline"):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, time.monotonic() + 5)
        stopped.append(f"hotline (pid {pid})")
    for child in recorded_children(settings):  # left behind by a supervisor that died
        if pid_alive(child.pid, child.match):
            stop_child(settings, child)
            stopped.append(f"{child.name} (pid {child.pid})")
    _children_file(settings).unlink(missing_ok=True)
    return stopped


def detach(settings: Settings, argv: list[str], timeout: float = 180) -> None:
    """Start `hotline up` in the background; return once it is ready."""
    import sys

    if running_supervisor(settings) is not None:
        raise StartError("the hotline already runs (hotline status; hotline down)")
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    _ready_file(settings).unlink(missing_ok=True)
    logf = (settings.log_dir / "hotline.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", *argv],
        stdout=logf,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    logf.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ready_file(settings).exists():
            return
        if proc.poll() is not None:
            tail = (settings.log_dir / "hotline.log").read_text(errors="replace")[-3000:]
            raise StartError(f"hotline up exited with {proc.returncode}:\n{tail}")
        time.sleep(0.2)
    raise StartError(f"not ready within {timeout:.0f}s; see {settings.log_dir}/hotline.log")
