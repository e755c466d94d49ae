"""`hotline up`: start what is missing (Asterisk, Redis, Mosquitto) and run the services.

Everything runs in one asyncio process. Children we start are recorded in
var/run/children.json so that `hotline down` stops them, and nothing else.
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
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from hotline.app import render
from hotline.app.errors import StartError
from hotline.app.health import asterisk_ok, tcp_open
from hotline.app.tables import open_engine
from hotline.asterisk import prompts
from hotline.asterisk import root as asterisk_root
from hotline.config.settings import Settings
from hotline.kernel.db import upgrade
from hotline.kernel.service_names import ALL_SERVICES as ALL_SERVICES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hotline.asterisk.ami import AmiClient

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


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the supervisor owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Supervisor:
    def __init__(self, settings: Settings, services: tuple[str, ...] = ALL_SERVICES) -> None:
        self.settings = settings
        self.services = services
        self.children: list[Child] = []
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = asyncio.Event()
        self._bridge_ami: AmiClient | None = None

    # ---- children ---------------------------------------------------------
    def _save_children(self) -> None:
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        _children_file(self.settings).write_text(json.dumps([c.__dict__ for c in self.children]))

    def _spawn(self, name: str, cmd: list[str], match: str) -> None:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        logf = (self.settings.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        self._procs[name] = proc
        self.children.append(Child(name, proc.pid, match))
        self._save_children()
        log.info("started %s (pid %s): %s", name, proc.pid, " ".join(cmd))

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
        self._spawn("redis", redis_command(self.settings, exe), "redis-server")
        await self._wait_port("redis", r.host, r.port)

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
        self._spawn("mosquitto", [exe, "-c", str(conf)], "mosquitto")
        await self._wait_port("mosquitto", m.host, m.port)

    async def _wait_port(self, name: str, host: str, port: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await tcp_open(host, port):
                return
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise StartError(f"{name} exited at start; see {self.settings.log_dir}/{name}.log")
            await asyncio.sleep(0.2)
        raise StartError(f"{name} did not answer on {host}:{port} within {timeout:.0f}s")

    async def _start_asterisk(self) -> None:
        s = self.settings
        root = await asyncio.to_thread(asterisk_root.install, s)
        await asyncio.to_thread(render.render_all, s)
        await asyncio.to_thread(prompts.generate, s)
        running, _ = await asyncio.to_thread(asterisk_ok, s)
        if running:
            log.info("Asterisk already runs in %s: reloading its configuration", root)
            await asyncio.to_thread(
                subprocess.run,
                asterisk_root.asterisk_cmd(root, "-rx", "core reload"),
                capture_output=True,
                timeout=30,
            )
            return
        asterisk_root.ensure_proc(root)
        self._spawn("asterisk", asterisk_root.asterisk_cmd(root, "-f", "-n"), "asterisk")
        proc = await asyncio.create_subprocess_exec(
            *asterisk_root.asterisk_cmd(root, "-rx", "core waitfullybooted"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            running, _ = await asyncio.to_thread(asterisk_ok, s)
            if running:
                break
            if self._procs["asterisk"].poll() is not None:
                raise StartError(f"Asterisk exited at start; see {s.log_dir}/asterisk.log")
            if time.monotonic() > deadline:
                raise StartError("Asterisk did not boot within 60 s")
            await asyncio.sleep(0.3)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 30)
        await self._wait_port("asterisk", s.ami.host, s.ami.port)

    def _stop_children(self) -> None:
        # children.json is the record: a child replaced meanwhile (a Redis restarted on the
        # same port, as the tests do) is stopped too
        recorded = {c.pid: c for c in recorded_children(self.settings)}
        for child in reversed([*self.children, *recorded.values()]):
            stop_child(self.settings, child)
        self.children.clear()
        self._save_children()

    # ---- services ---------------------------------------------------------
    async def run(self, on_ready: Callable[[], Awaitable[None]] | None = None) -> None:
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        _ready_file(s).unlink(missing_ok=True)
        _pid_file(s).write_text(str(os.getpid()))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        tasks: list[asyncio.Task[Any]] = []
        try:
            await self._start_redis()
            await self._start_mqtt()
            if "asterisk" in self.services:
                await self._start_asterisk()
            render.ensure_secrets(s)
            await asyncio.to_thread(upgrade, s.db_url)
            tasks = await self.start_services()
            _ready_file(s).write_text(str(time.time()))
            log.info(
                "hotline ready: call %s on %s:%s", s.sip.hotline_number, s.sip.host, s.sip.port
            )
            if on_ready:
                await on_ready()
            stop_wait = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t is not stop_wait and t.exception():
                    log.error("service %s failed: %s", t.get_name(), t.exception())
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._stop_children()
            _ready_file(s).unlink(missing_ok=True)
            _pid_file(s).unlink(missing_ok=True)
            log.info("hotline stopped")

    async def start_services(self) -> list[asyncio.Task[Any]]:
        """The chosen services but Asterisk (run starts it), each as a task named after it,
        in the order of ALL_SERVICES."""
        starters = self.starters()
        chosen = [n for n in ALL_SERVICES if n in self.services and n != "asterisk"]
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
        self._bridge_ami = ami  # the API reports its connection
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
        ami = self._bridge_ami
        connected = (lambda: ami.connected) if ami is not None else None
        app = create_app(s, self.engine, bridge_connected=connected)
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


def down(settings: Settings, timeout: float = 60) -> list[str]:
    """Stop a running `hotline up` and whatever it started; return what was stopped."""
    stopped = []
    pid = running_supervisor(settings)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid, time.monotonic() + timeout)  # until the API's and others' ports are free
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
