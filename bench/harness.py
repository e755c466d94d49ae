"""Start a hotline for benchmarks and drive SIPp load against it.

The hotline runs from a private var dir with the reference flow rendered
(HOTLINE_BENCH_REFERENCE=true) and the short bench menu, so that ENG (12345)
and REF (12399) run on the same Asterisk, the same bridge, in the same run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.settings import load_settings
from crm_bridge.models import CallRecord
from hotline.db import make_engine
from hotline.prompts import tone

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOTLINE = [sys.executable, "-m", "hotline"]
ENG_NUMBER = "12345"
REF_NUMBER = "12399"
BENCH_PROMPTS = {"bench-welcome": 0.3, "bench-menu": 0.3, "bench-transfer": 0.3}


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

    @property
    def failed(self) -> int:
        return self.sip_failed + (self.calls - self.records) + self.ivr_failed

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.sip_ok == self.calls


class BenchHotline:
    def __init__(self) -> None:
        self.var = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
        self.env = {
            **os.environ,
            "HOTLINE_VAR_DIR": str(self.var),
            "HOTLINE_BENCH_REFERENCE": "true",
            "HOTLINE_IVR_FILE": str(HERE / "ivr-bench.yaml"),
        }
        self.env.pop("HOTLINE_AMI__SECRET", None)
        self._trial = 0

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
        sounds = self.var / "asterisk-root/usr/share/asterisk/sounds/hotline"
        for name, seconds in BENCH_PROMPTS.items():
            tone(sounds / f"{name}.wav", seconds)
        self.cli("up", "--detach")
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("HOTLINE_")})
        self.settings = load_settings()
        self.engine = make_engine(self.settings.db_url)

    def stop(self) -> None:
        self.cli("down", check=False)
        shutil.rmtree(self.var, ignore_errors=True)

    # ---- measurement helpers ---------------------------------------------
    def pids(self) -> list[int]:
        import json

        run = self.var / "run"
        pids = [int((run / "hotline.pid").read_text())]
        pids += [
            c["pid"]
            for c in json.loads((run / "children.json").read_text())
            if c["name"] == "asterisk"
        ]
        return pids

    def cpu_seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def channels(self) -> int:
        try:
            out = self.cli("asterisk", "cli", "core", "show", "channels", "count", timeout=15)
        except subprocess.TimeoutExpired:
            return -1
        m = re.search(r"(\d+) active channel", out)
        return int(m.group(1)) if m else -1

    def drain(self, timeout: float = 60) -> None:
        """Wait for every channel to end; hang up what an overloaded trial left behind."""
        deadline = time.monotonic() + timeout
        while self.channels() not in (0,) and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.channels() != 0:
            # an overloaded Asterisk may take minutes to answer this: bounded
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.cli(
                    "asterisk",
                    "cli",
                    "channel",
                    "request",
                    "hangup",
                    "all",
                    check=False,
                    timeout=30,
                )
            while self.channels() not in (0,) and time.monotonic() < deadline + 30:
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

    def run_load(self, target: str, rate: float, seconds: float, hold_ms: int = 1200) -> Trial:
        """SIPp at `rate` calls/s for `seconds`; count SIP, IVR and record failures."""
        self._trial += 1
        prefix = f"9{self._trial:03d}"
        calls = max(1, round(rate * seconds))
        work = self.var / f"trial-{self._trial}"
        work.mkdir()
        scenario = work / "ivr_call.xml"
        scenario.write_text(
            Template((HERE / "sipp/ivr_call.xml").read_text()).substitute(
                prefix=prefix, hold_ms=hold_ms
            )
        )
        number = ENG_NUMBER if target == "ENG" else REF_NUMBER
        cpu0, t0 = self.cpu_seconds(), time.monotonic()
        # fmt: off
        cmd = ["sipp", "127.0.0.1:5060", "-sf", str(scenario), "-s", number,
               "-r", f"{rate:g}", "-m", str(calls), "-l", str(max(50, int(rate * 20))),
               "-i", "127.0.0.1", "-p", "5061", "-mp", "16000", "-nostdin",
               "-timeout", f"{seconds + 40:.0f}s", "-trace_rtt", "-rtt_freq", "1",
               "-max_socket", "50000"]
        # fmt: on
        try:
            screen = subprocess.run(
                cmd, cwd=work, capture_output=True, text=True, check=False, timeout=seconds + 60
            ).stdout
        except subprocess.TimeoutExpired as exc:  # overloaded: a failed trial, not a crash
            raw = exc.stdout or b""
            screen = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            progress(f"{target} {rate:g} calls/s: SIPp did not finish; counted as failed")
        self.drain()
        elapsed = time.monotonic() - t0
        ok = _screen_count(screen, "Successful call")
        bad = max(_screen_count(screen, "Failed call"), calls - ok)
        deadline = time.monotonic() + 60
        records, ivr_bad = self.count_records(prefix)
        while records < ok and time.monotonic() < deadline:
            time.sleep(0.5)
            records, ivr_bad = self.count_records(prefix)
        cpu = self.cpu_seconds() - cpu0
        return Trial(target, rate, calls, ok, bad, records, ivr_bad, _rtt(work), cpu, elapsed)


def _screen_count(screen: str, label: str) -> int:
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
