"""Start a hotline for benchmarks and drive SIPp load against it.

The hotline runs from a private var dir with the bench flows rendered
(HOTLINE_BENCH_REFERENCE=true, see asterisk/templates/extensions_bench.conf.j2) and
the short bench menu, so that ENG (12345) and the references run on the same
Asterisk, the same bridge, in the same run. It holds the machine's Asterisk
(`exclusive_use`) from start to stop, so a test session waits instead of colliding.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from types import TracebackType
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import Session, col, select

from hotline.app.render import BENCH_CLASSIC_AGI, BENCH_NUMBERS
from hotline.asterisk.prompts import tone
from hotline.asterisk.root import ensure_packages, exclusive_use, in_chroot
from hotline.calls.models import CallRecord
from hotline.config.settings import load_settings
from hotline.kernel.db import make_engine

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOTLINE = [sys.executable, "-m", "hotline"]
TARGETS = {
    "ENG": "12345",  # the engine: FastAGI IVR
    "REF": "12399",  # the same flow in dialplan only
    "REF_NOREC": BENCH_NUMBERS["ref_norec"],  # REF without MixMonitor
    "CLASSIC": BENCH_NUMBERS["classic"],  # the engine's flow, IVR as a pyst2 script per call
}
BENCH_PROMPTS = {"bench-welcome": 0.3, "bench-menu": 0.3, "bench-transfer": 0.3}
BENCH_MENU = HERE / "ivr-bench.yaml"


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Trial:
    target: str
    rate: float
    calls: int
    sip_ok: int
    sip_failed: int
    records: int
    ivr_failed: int
    setup_ms: list[float]
    cpu_seconds: float
    seconds: float
    overloaded: bool = False
    store_lag_ms: list[float] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.sip_failed + (self.calls - self.records) + self.ivr_failed

    @property
    def clean(self) -> bool:
        return not self.overloaded and self.failed == 0 and self.sip_ok == self.calls

    def summary(self) -> str:
        return (
            f"{self.target} {self.rate:g} calls/s: {self.sip_ok}/{self.calls} SIP ok, "
            f"{self.records} records, {self.ivr_failed} IVR fallbacks"
            f"{', overloaded' if self.overloaded else ''} -> "
            f"{'clean' if self.clean else 'FAILED'}"
        )


class BenchHotline:
    """`with BenchHotline() as h:` a private hotline on the machine's Asterisk."""

    def __init__(
        self,
        agents: list[dict[str, Any]] | None = None,
        services: str = "asterisk,agi,bridge,api",
        classic: bool = True,  # install the CLASSIC flow's Python into the Asterisk root
    ) -> None:
        self.agents = agents or []
        self.services = services
        self.classic = classic
        self.var = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
        self.env = {
            **os.environ,
            "HOTLINE_VAR_DIR": str(self.var),
            "HOTLINE_BENCH_REFERENCE": "true",
            "HOTLINE_IVR_FILE": str(BENCH_MENU),
            # the recorded figures (routing, simulation against Erlang C) have no
            # after-call work; the product's default wrap-up would change them
            "HOTLINE_ACD__WRAPUP_SECONDS": "0",
        }
        if self.agents:
            config = self.var / "hotline.yaml"
            config.write_text(yaml.safe_dump({"agents": self.agents}, allow_unicode=True))
            self.env["HOTLINE_CONFIG_FILE"] = str(config)
        self.env.pop("HOTLINE_AMI__SECRET", None)
        self._trial = 0
        self._lock = contextlib.ExitStack()

    def __enter__(self) -> BenchHotline:
        # poll faster than the test fixture: a benchmark waits for the running test
        # session, not behind every later one (run.py leaves a gap between benchmarks)
        self._lock.enter_context(exclusive_use("hotline bench", poll=0.1))
        try:
            self.start()
        except BaseException:
            self.stop()
            self._lock.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self._lock.close()

    def cli(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        out = subprocess.run(
            [*HOTLINE, *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"hotline {' '.join(args)}: {out.stdout}{out.stderr}")
        return out.stdout

    def start(self) -> None:
        progress(f"starting the hotline in {self.var}")
        self.cli("asterisk", "install")
        root = self.var / "asterisk-root"
        sounds = root / "usr/share/asterisk/sounds/hotline"
        for name, seconds in BENCH_PROMPTS.items():
            tone(sounds / f"{name}.wav", seconds)
        self._saved_env = {k: v for k, v in os.environ.items() if k.startswith("HOTLINE_")}
        for k in self._saved_env:
            del os.environ[k]
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("HOTLINE_")})
        self.settings = load_settings()
        if self.classic:
            self._install_classic(root)
        # By default the recordings worker is left out: archiving is measured on its own (7);
        # the soak runs every service.
        self.cli("up", "--detach", "--services", self.services)
        self.engine = make_engine(self.settings.db_url)
        if self.agents:
            asyncio.run(self._login_agents())
        self.ami_secret = _secret(self.var)

    async def _login_agents(self) -> None:
        """`hotline agent login` for every agent, over one AMI session."""
        from hotline.acd.membership import ami_session
        from hotline.acd.supervision import Actor, change_state

        actor = Actor("bench", "cli")
        async with ami_session(self.settings) as ami:
            for a in self.agents:
                await change_state(self.settings, self.engine, ami, actor, "login", str(a["id"]))

    def _install_classic(self, root: Path) -> None:
        """Python, pyst2 and the menu inside the Asterisk root for the CLASSIC flow."""
        import asterisk.agi  # type: ignore[import-untyped]
        import six  # type: ignore[import-untyped]

        from hotline.agi.menu import load_menu

        if in_chroot(root):
            ensure_packages(root, ["python3"])
        target = root / BENCH_CLASSIC_AGI.lstrip("/")
        dest = target.parent
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(asterisk.agi.__file__).parent, dest / "asterisk", dirs_exist_ok=True)
        shutil.copy2(six.__file__, dest / "six.py")
        shutil.copy2(HERE / "classic_ivr.py", target)
        target.chmod(0o755)
        menu = load_menu(BENCH_MENU, self.settings.queue_names())
        (dest / "menu.json").write_text(
            json.dumps(
                {
                    "welcome_prompt": menu.welcome_prompt,
                    "menu_prompt": menu.menu_prompt,
                    "invalid_prompt": menu.invalid_prompt,
                    "transfer_prompt": menu.transfer_prompt,
                    "menu_timeout_ms": menu.menu_timeout_ms,
                    "max_attempts": menu.max_attempts,
                    "fallback_queue": menu.fallback_queue,
                    "keys": {
                        k: {"request_type": v.request_type or "", "queue": v.queue}
                        for k, v in menu.keys.items()
                        if k.isdigit()
                    },
                }
            )
        )

    def stop(self) -> None:
        # the machine's Asterisk root is shared (the cache every checkout's hotline and the
        # tests' overlays start from): its AstDB must not keep this hotline's agents as
        # persistent members of its queues (the soak left 170 in every later test session)
        self.asterisk_cli("database deltree Queue/PersistentMembers")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.cli("down", "--now", check=False, timeout=120)
        shutil.rmtree(self.var, ignore_errors=True)
        if hasattr(self, "_saved_env"):  # this hotline's HOTLINE_* out, the caller's back
            for k in [k for k in os.environ if k.startswith("HOTLINE_")]:
                del os.environ[k]
            os.environ.update(self._saved_env)

    # ---- measurement helpers ---------------------------------------------
    def cpu_seconds(self) -> float:
        """utime+stime of the supervisor, of every process it keeps (each service is its own
        since issue 19, Asterisk among them) and of their reaped children (the CLASSIC flow's
        AGI scripts, run by Asterisk)."""
        tick = os.sysconf("SC_CLK_TCK")
        run = self.var / "run"
        pids = [int((run / "hotline.pid").read_text())]
        pids += [int(c["pid"]) for c in json.loads((run / "children.json").read_text())]
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):  # a child that ended: its time is gone too
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15])
        return total / tick

    def asterisk_cli(self, *command: str, timeout: float = 15) -> str:
        try:
            return self.cli("asterisk", "cli", *command, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ""

    def channels(self) -> int:
        m = re.search(r"(\d+) active channel", self.asterisk_cli("core show channels count"))
        return int(m.group(1)) if m else -1

    def drain(self, timeout: float = 60) -> None:
        """Wait for every channel to end; hang up what an overloaded trial left behind."""
        deadline = time.monotonic() + timeout
        while self.channels() != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.channels() != 0:
            # an overloaded Asterisk may take minutes to answer this: bounded
            self.asterisk_cli("channel request hangup all", timeout=30)
            while self.channels() != 0 and time.monotonic() < deadline + 30:
                time.sleep(0.5)

    def count_records(self, prefix: str) -> tuple[int, int]:
        with Session(self.engine) as s:
            base = (
                select(func.count())
                .select_from(CallRecord)
                .where(col(CallRecord.caller_number).startswith(prefix))
            )
            total = s.exec(base).one()
            bad = s.exec(
                base.where(col(CallRecord.ivr_result).not_in(["chosen", "reference"]))
            ).one()
        return total, bad

    def next_prefix(self) -> str:
        self._trial += 1
        return f"9{self._trial:03d}"

    def run_load(
        self,
        target: str,
        rate: float,
        seconds: float,
        *,
        hold_ms: int = 1200,
        watch_store: bool = False,
        prefix: str | None = None,
    ) -> Trial:
        """SIPp at `rate` calls/s for `seconds`; count SIP, IVR and record failures."""
        prefix = prefix or self.next_prefix()
        calls = max(1, round(rate * seconds))
        work = self.var / f"trial-{prefix}"
        work.mkdir()
        scenario = work / "ivr_call.xml"
        scenario.write_text(sipp_scenario("ivr_call.xml", prefix=prefix, hold_ms=hold_ms))
        # A call lasts about 2 s; beyond 5 s of calls in flight Asterisk is not keeping up.
        limit = max(50, int(rate * 5))
        # fmt: off
        cmd = ["sipp", f"127.0.0.1:{self.settings.sip.port}", "-sf", str(scenario),
               "-s", TARGETS[target], "-r", f"{rate:g}", "-m", str(calls), "-l", str(limit),
               "-i", "127.0.0.1", "-p", "5061", "-mp", "16000", "-nostdin",
               "-timeout", f"{seconds + 30:.0f}s", "-timeout_error",
               "-trace_rtt", "-rtt_freq", "1", "-max_socket", "50000"]
        # fmt: on
        watcher = StoreLagWatcher(self, prefix) if watch_store else None
        cpu0, t0 = self.cpu_seconds(), time.monotonic()
        overloaded = False
        try:
            screen = subprocess.run(
                cmd, cwd=work, capture_output=True, text=True, check=False, timeout=seconds + 45
            ).stdout
        except subprocess.TimeoutExpired as exc:  # overloaded: a failed trial, not a crash
            raw = exc.stdout or b""
            screen = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            overloaded = True
        if time.monotonic() - t0 > seconds + 20:
            overloaded = True  # SIPp's call limit held calls back: the rate was not reached
        self.drain()
        elapsed = time.monotonic() - t0
        ok = screen_count(screen, "Successful call")
        bad = max(screen_count(screen, "Failed call"), calls - ok)
        deadline = time.monotonic() + 60
        records, ivr_bad = self.count_records(prefix)
        while records < ok and time.monotonic() < deadline:
            time.sleep(0.5)
            records, ivr_bad = self.count_records(prefix)
        cpu = self.cpu_seconds() - cpu0
        lags = watcher.stop() if watcher else []
        return Trial(
            target, rate, calls, ok, bad, records, ivr_bad, _rtt(work), cpu, elapsed,
            overloaded, lags,
        )  # fmt: skip


class StoreLagWatcher:
    """Polls the database every 0.2 s during a trial: when each call record first
    appears, against the call's end (ended_at, from Asterisk's event time)."""

    PERIOD = 0.2

    def __init__(self, h: BenchHotline, prefix: str) -> None:
        self.h, self.prefix = h, prefix
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-lag", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        now = datetime.now(UTC)
        with Session(self.h.engine) as s:
            rows = s.exec(
                select(CallRecord.linkedid, CallRecord.ended_at).where(
                    col(CallRecord.caller_number).startswith(self.prefix)
                )
            ).all()
        for linkedid, ended in rows:
            if linkedid not in self.seen:
                self.seen[linkedid] = max(0.0, (now - ended).total_seconds() * 1000)

    def _run(self) -> None:
        while not self._stop.wait(self.PERIOD):
            with contextlib.suppress(Exception):  # a busy SQLite: poll again
                self._poll()

    def stop(self) -> list[float]:
        self._poll()
        self._stop.set()
        self._thread.join()
        return list(self.seen.values())


def _secret(var: Path) -> str:
    for line in (var / "secrets.env").read_text().splitlines():
        if line.startswith("HOTLINE_AMI__SECRET="):
            return line.split("=", 1)[1]
    return ""


def sipp_scenario(name: str, **values: object) -> str:
    """One of bench/sipp/*.xml with its ${placeholders} filled in."""
    return Template((HERE / "sipp" / name).read_text()).substitute(values)


def screen_count(screen: str, label: str) -> int:
    """A cumulative counter ("Successful call", "Failed call") from SIPp's last screen."""
    m = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", screen)
    return int(m[-1]) if m else 0


def _rtt(work: Path) -> list[float]:
    out = []
    for f in work.glob("*_rtt.csv"):
        for line in f.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                with contextlib.suppress(ValueError):
                    out.append(float(parts[1]))
    return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]
