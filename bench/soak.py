"""The soak (issue 19): calls at half the top rate of its call for an hour, every process watched.

The top rate is the soak's own call's (menu, queue, agent, talk, recording, every service),
found first by trials of two minutes that double the rate until one is not clean, then
bisect; the menu-only top rate of the capacity benchmark is far higher than what this call
allows on the same machine.

A private hotline runs every service of `hotline up` (each its own OS process) and enough
agents for the traffic (Erlang C: a caller waits with a chance under 1 %). One SIPp places
the calls: it creates them at a steady rate and each waits an exponential time (mean 5 s)
before its INVITE, so the INVITEs are, to a very close approximation, a Poisson stream
(random displacements much longer than the spacing; the rate stays open-loop). A caller
presses 0, waits for an agent, the agent (one SIPp answering for all the agents) answers at
once, talks an exponential time (mean 3 s) and hangs up.

Every 10 s: the resident memory (VmRSS) of the supervisor and of every process in
var/run/services.json (Asterisk among them), calls finished so far (SIPp's statistics
file), call records stored so far. Lost calls = placed − SIP successes; lost records =
placed − stored after a grace period. A process's growth = the median RSS of the last
minute of load against the median of the minute after the first ten minutes (the
start-up, caches and pools filling, is not a leak); it passes under 5 %.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bench.harness import TARGETS, BenchHotline, progress, screen_count, sipp_scenario
from hotline.acd.erlang import probability_of_waiting
from hotline.calls.models import CallRecord

SAMPLE_SECONDS = 10
BASELINE_SECONDS = 600  # growth is counted from the minute after the first ten minutes
WINDOW_SECONDS = 60  # the baseline and the end are medians over a minute of samples
GROWTH_LIMIT_PCT = 5.0
GRACE_SECONDS = 60  # after the last call, for the last records to be stored
TALK_SECONDS = 3.0  # mean talk time (exponential)
HANDLE_SECONDS = TALK_SECONDS + 0.5  # with ringing, answer and hang-up
SPREAD_SECONDS = 5.0  # mean exponential delay from a call's creation to its INVITE
MAX_WAIT_PROBABILITY = 0.01
WAIT_LIMIT_SECONDS = 120  # a caller not answered by then is a failed call
AGENT_PORT = 5300
AGENT_ID_BASE = 3001
KEY = 0  # the general queue, which every agent serves
TOO_SHORT = "too short for the growth criterion"
SEARCH_SECONDS = 120.0  # a trial of the top-rate search
SEARCH_START = 5.0
SEARCH_CEILING = 40.0


# ---- pure parts (unit-tested) ------------------------------------------------------
def vm_rss_kib(status: str) -> int | None:
    """VmRSS in KiB from the text of /proc/PID/status (None for a kernel thread or zombie)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def watched_pids(services: dict[str, Any]) -> dict[str, int]:
    """Process name -> pid from var/run/services.json: the supervisor and each kept child
    that has a pid now."""
    pids = {"supervisor": int(services["supervisor"])}
    for name, child in sorted(services.get("children", {}).items()):
        if child.get("pid"):
            pids[name] = int(child["pid"])
    return pids


def sipp_stat_last(text: str) -> dict[str, int]:
    """Calls placed, successful and failed so far, from SIPp's -trace_stat file (the header
    line, then one cumulative row per period)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return {"placed": 0, "ok": 0, "failed": 0}
    row = dict(zip(lines[0].split(";"), lines[-1].split(";"), strict=False))

    def num(key: str) -> int:
        with contextlib.suppress(KeyError, ValueError):
            return int(row[key])
        return 0

    return {
        "placed": num("OutgoingCall(C)"),
        "ok": num("SuccessfulCall(C)"),
        "failed": num("FailedCall(C)"),
    }


def agents_needed(rate: float, handle_seconds: float = HANDLE_SECONDS) -> int:
    """The fewest agents with which a caller waits with a chance under 1 % (Erlang C)."""
    erlangs = rate * handle_seconds
    n = max(1, int(erlangs) + 1)
    while probability_of_waiting(n, erlangs) > MAX_WAIT_PROBABILITY:
        n += 1
    return n


@dataclass
class Sample:
    t: float  # seconds since the first call was placed
    load: bool  # calls were still being placed or in progress (False: the grace period)
    calls_ok: int
    calls_failed: int
    records: int
    rss_kib: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)


@dataclass
class Growth:
    name: str
    first_kib: int
    last_kib: int
    pids: list[int]
    baseline_kib: float | None = None  # median of the minute after the first ten
    baseline_spread_kib: tuple[int, int] | None = None
    end_kib: float | None = None  # median of the last minute of load
    end_spread_kib: tuple[int, int] | None = None
    growth_pct: float | None = None
    verdict: str = TOO_SHORT  # pass, FAIL, restarted, or too short

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def growth(samples: list[Sample], name: str) -> Growth:
    """One process's memory over the load: baseline at ten minutes, end, growth, verdict."""
    rows = [(s.t, s.rss_kib[name], s.pids.get(name, 0))
            for s in samples if s.load and name in s.rss_kib]  # fmt: skip
    if not rows:
        raise ValueError(f"no sample of {name} during the load")
    pids = list(dict.fromkeys(pid for _, _, pid in rows))
    g = Growth(name, rows[0][1], rows[-1][1], pids)
    end_t = rows[-1][0]
    base = [k for t, k, _ in rows if BASELINE_SECONDS <= t < BASELINE_SECONDS + WINDOW_SECONDS]
    end = [k for t, k, _ in rows if t > end_t - WINDOW_SECONDS]
    if end_t < BASELINE_SECONDS + 2 * WINDOW_SECONDS or not base:
        g.verdict = "restarted" if len(pids) > 1 else TOO_SHORT
        return g
    g.baseline_kib, g.baseline_spread_kib = statistics.median(base), (min(base), max(base))
    g.end_kib, g.end_spread_kib = statistics.median(end), (min(end), max(end))
    g.growth_pct = (g.end_kib - g.baseline_kib) / g.baseline_kib * 100
    if len(pids) > 1:
        g.verdict = "restarted"
    else:
        g.verdict = "pass" if g.growth_pct < GROWTH_LIMIT_PCT else "FAIL"
    return g


@dataclass
class Counts:
    rate: float
    minutes: float
    agents: int
    placed: int
    sip_ok: int
    sip_failed: int
    records: int
    answered: int
    menus: dict[str, int]  # ivr_result -> records ("chosen": the caller's key was heard)
    load_seconds: float

    @property
    def lost_calls(self) -> int:
        return self.placed - self.sip_ok

    @property
    def lost_records(self) -> int:
        return self.placed - self.records


def summarise(counts: Counts, samples: list[Sample]) -> dict[str, Any]:
    """The soak's figures and verdict (results.json's "soak")."""
    names = list(dict.fromkeys(n for s in samples if s.load for n in s.rss_kib))
    procs = [growth([s for s in samples if n in s.rss_kib], n) for n in names]
    short = any(p.verdict == TOO_SHORT for p in procs)
    calls_ok = counts.lost_calls == 0 and counts.sip_failed == 0 and counts.placed > 0
    records_ok = counts.lost_records == 0
    memory_ok = all(p.passed for p in procs)
    if not (calls_ok and records_ok) or any(p.verdict in ("FAIL", "restarted") for p in procs):
        verdict = "FAIL"
    elif short:
        verdict = f"no lost calls or records; memory: {TOO_SHORT}"
    else:
        verdict = "pass" if memory_ok else "FAIL"
    return {
        "rate": counts.rate,
        "load_minutes": counts.minutes,  # "minutes" is the whole benchmark's (run.py)
        "agents": counts.agents,
        "talk_mean_s": TALK_SECONDS,
        "placed": counts.placed,
        "finished_rate_median": steady_rate(samples),
        "sip_ok": counts.sip_ok,
        "sip_failed": counts.sip_failed,
        "lost_calls": counts.lost_calls,
        "records": counts.records,
        "lost_records": counts.lost_records,
        "answered": counts.answered,
        "menu_results": counts.menus,
        "samples": len(samples),
        "growth_limit_pct": GROWTH_LIMIT_PCT,
        "processes": {p.name: _growth_dict(p) for p in procs},
        "verdict": verdict,
    }


def _growth_dict(g: Growth) -> dict[str, Any]:
    return {
        "first_mib": round(g.first_kib / 1024, 1),
        "last_mib": round(g.last_kib / 1024, 1),
        "at_10_min_mib": _mib(g.baseline_kib),
        "at_10_min_range_mib": _mib_range(g.baseline_spread_kib),
        "end_mib": _mib(g.end_kib),
        "end_range_mib": _mib_range(g.end_spread_kib),
        "growth_pct": None if g.growth_pct is None else round(g.growth_pct, 2),
        "pids": g.pids,
        "verdict": g.verdict,
    }


def _mib(kib: float | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _mib_range(r: tuple[int, int] | None) -> list[float] | None:
    return None if r is None else [round(r[0] / 1024, 1), round(r[1] / 1024, 1)]


def report_lines(summary: dict[str, Any]) -> list[str]:
    """What the soak prints at the end: the calls, then one line per process."""
    s = summary
    out = [
        f"{s['placed']} calls placed at {s['rate']:g} calls/s for {s['load_minutes']:g} min "
        f"({s['finished_rate_median']:.1f} finished per s, median of the steady intervals), "
        f"{s['agents']} agents: {s['sip_ok']} SIP ok, {s['sip_failed']} SIP failed, lost calls "
        f"{s['lost_calls']}; {s['records']} records, lost records {s['lost_records']}; "
        f"{s['answered']} answered by an agent; menus: {s['menu_results']}",
    ]
    for name, p in s["processes"].items():
        if p["growth_pct"] is None:
            mem = f"{p['first_mib']} -> {p['last_mib']} MiB (first -> last sample)"
        else:
            mem = (
                f"{p['at_10_min_mib']} MiB at 10 min -> {p['end_mib']} MiB at the end, "
                f"{p['growth_pct']:+.2f} %"
            )
        restarts = f", pids {p['pids']}" if len(p["pids"]) > 1 else ""
        out.append(f"  {name:<12} {mem}{restarts}: {p['verdict']}")
    out.append(f"verdict: {s['verdict']}")
    return out


def write_csv(samples: list[Sample], path: Path) -> Path:
    """One row per sample: time, calls, records, the call rate of the interval, RSS (KiB)."""
    names = list(dict.fromkeys(n for s in samples for n in s.rss_kib))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "load", "calls_ok", "calls_failed", "records", "calls_per_s"]
                   + [f"rss_kib_{n}" for n in names])  # fmt: skip
        prev: Sample | None = None
        for s in samples:
            w.writerow([f"{s.t:.1f}", int(s.load), s.calls_ok, s.calls_failed, s.records,
                        f"{interval_rate(prev, s):.2f}"]
                       + [s.rss_kib.get(n, "") for n in names])  # fmt: skip
            prev = s
    return path


def steady_rate(samples: list[Sample]) -> float:
    """The median call rate of the 10 s intervals of the load, its first and last minute
    (calls still starting and the last calls ending) left out."""
    load = [s for s in samples if s.load]
    if not load:
        return 0.0
    end = load[-1].t - WINDOW_SECONDS
    rates = [interval_rate(p, s) for p, s in itertools.pairwise(load)
             if p.t >= WINDOW_SECONDS and s.t <= end]  # fmt: skip
    return statistics.median(rates) if rates else 0.0


def interval_rate(prev: Sample | None, s: Sample) -> float:
    """Calls finished per second since the previous sample."""
    if prev is None or s.t <= prev.t:
        return 0.0
    done = s.calls_ok + s.calls_failed - prev.calls_ok - prev.calls_failed
    return done / (s.t - prev.t)


# ---- the run ----------------------------------------------------------------------
def agent_configs(n: int) -> list[dict[str, Any]]:
    """n desk phones, all answered by the one agents' SIPp on AGENT_PORT."""
    return [
        {"id": str(AGENT_ID_BASE + i), "name": f"soak agent {i + 1}", "skills": [],
         "contact": f"sip:{AGENT_ID_BASE + i}@127.0.0.1:{AGENT_PORT}"}
        for i in range(n)
    ]  # fmt: skip


def read_rss(pids: dict[str, int]) -> dict[str, int]:
    out = {}
    for name, pid in pids.items():
        with contextlib.suppress(OSError):
            kib = vm_rss_kib(Path(f"/proc/{pid}/status").read_text())
            if kib is not None:
                out[name] = kib
    return out


class Soak:
    def __init__(self, h: BenchHotline, rate: float, minutes: float, agents: int) -> None:
        self.h, self.rate, self.minutes, self.agents = h, rate, minutes, agents
        self.prefix = h.next_prefix()
        self.work = h.var / f"soak-{self.prefix}"
        self.work.mkdir()
        self.stat = self.work / "calls_stat.csv"
        self.samples: list[Sample] = []
        self.t0 = 0.0

    def _sipp(self, args: list[str], out: str) -> subprocess.Popen[bytes]:
        with (self.work / out).open("wb") as f:
            return subprocess.Popen(
                ["sipp", *args, "-i", "127.0.0.1", "-nostdin"],
                cwd=self.work,
                stdout=f,
                stderr=subprocess.STDOUT,
            )

    def _start_agents(self) -> subprocess.Popen[bytes]:
        xml = self.work / "soak_agent.xml"
        asterisk = f"127.0.0.1:{self.h.settings.sip.port}"
        xml.write_text(sipp_scenario("soak_agent.xml", talk_ms=int(TALK_SECONDS * 1000),
                                     asterisk=asterisk))  # fmt: skip
        return self._sipp(
            [
                "-sf",
                str(xml),
                "-p",
                str(AGENT_PORT),
                "-mp",
                "19000",
                "-max_socket",
                "50000",
                "-aa",
            ],  # answers the qualify's OPTIONS for every agent, as their phones would
            "agents_screen.log",
        )

    def _start_callers(self, calls: int) -> subprocess.Popen[bytes]:
        xml = self.work / "soak_call.xml"
        xml.write_text(sipp_scenario("soak_call.xml", prefix=self.prefix, key=KEY,
                                     spread_ms=int(SPREAD_SECONDS * 1000),
                                     wait_ms=WAIT_LIMIT_SECONDS * 1000))  # fmt: skip
        seconds = self.minutes * 60
        # calls in progress: the spread, the menu, the talk; SIPp's limit far above that
        limit = max(200, int(self.rate * (SPREAD_SECONDS + HANDLE_SECONDS + 2) * 5))
        # fmt: off
        return self._sipp(
            [f"127.0.0.1:{self.h.settings.sip.port}", "-sf", str(xml), "-s", TARGETS["ENG"],
             "-r", f"{self.rate * 10:g}", "-rp", "10000", "-m", str(calls), "-l", str(limit),
             "-p", "5061", "-mp", "16000", "-max_socket", "50000",
             "-timeout", f"{seconds + WAIT_LIMIT_SECONDS + 120:.0f}s",
             "-trace_stat", "-stf", str(self.stat), "-fd", "1"],
            "callers_screen.log",
        )
        # fmt: on

    def _where(self) -> Any:
        return col(CallRecord.caller_number).startswith(self.prefix)

    def _stored(self) -> int:
        with Session(self.h.engine) as s:
            return s.exec(select(func.count()).select_from(CallRecord).where(self._where())).one()

    def _outcomes(self) -> tuple[int, dict[str, int]]:
        """This soak's records answered by an agent, and how their menus ended."""
        with Session(self.h.engine) as s:
            answered = s.exec(
                select(func.count())
                .select_from(CallRecord)
                .where(self._where(), col(CallRecord.answered_at).is_not(None))
            ).one()
            menus = s.exec(
                select(CallRecord.ivr_result, func.count())
                .where(self._where())
                .group_by(col(CallRecord.ivr_result))
            ).all()
        return answered, {result or "(none)": n for result, n in menus}

    def sample(self, load: bool) -> Sample:
        services = json.loads((self.h.var / "run" / "services.json").read_text())
        pids = watched_pids(services)
        calls = sipp_stat_last(self.stat.read_text()) if self.stat.exists() else {}
        records = 0
        with contextlib.suppress(Exception):  # a busy database: the count is only for the plot
            records = self._stored()
        s = Sample(time.monotonic() - self.t0, load, calls.get("ok", 0), calls.get("failed", 0),
                   records, read_rss(pids), pids)  # fmt: skip
        self.samples.append(s)
        return s

    def run(self) -> Counts:
        calls = round(self.rate * self.minutes * 60)
        agents = self._start_agents()
        try:
            self.t0 = time.monotonic()
            callers = self._start_callers(calls)
            self._watch(callers)
            load_seconds = time.monotonic() - self.t0
            progress("soak: calls done; waiting for the last records")
            self._grace(calls)
        finally:
            agents.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                agents.wait(10)
        return self._counts(calls, load_seconds)

    def _watch(self, callers: subprocess.Popen[bytes]) -> None:
        next_at = self.t0
        while callers.poll() is None:
            if time.monotonic() >= next_at:
                s = self.sample(load=True)
                next_at += SAMPLE_SECONDS
                if len(self.samples) % 6 == 0:  # a line a minute
                    mib = sum(s.rss_kib.values()) / 1024
                    progress(f"soak {s.t / 60:.0f} min: {s.calls_ok} ok, {s.calls_failed} failed, "
                             f"{s.records} records, RSS in all {mib:.0f} MiB")  # fmt: skip
            time.sleep(0.2)

    def _grace(self, calls: int) -> None:
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            if self.sample(load=False).records >= calls:
                break
            time.sleep(SAMPLE_SECONDS)

    def _counts(self, calls: int, load_seconds: float) -> Counts:
        stats = sipp_stat_last(self.stat.read_text()) if self.stat.exists() else {}
        screen = (self.work / "callers_screen.log").read_text(errors="replace")[-20000:]
        placed = stats.get("placed") or calls
        ok = max(stats.get("ok", 0), screen_count(screen, "Successful call"))
        failed = max(stats.get("failed", 0), screen_count(screen, "Failed call"))
        answered, menus = self._outcomes()
        return Counts(self.rate, self.minutes, self.agents, placed, ok, failed,
                      sum(menus.values()), answered, menus, load_seconds)  # fmt: skip


def trial_clean(c: Counts) -> bool:
    """Every call placed got through, has its record, and its menu heard the key (no
    fallback after a failed or slow FastAGI)."""
    return (
        c.placed > 0
        and c.sip_failed == 0
        and c.lost_calls == 0
        and c.lost_records == 0
        and set(c.menus) == {"chosen"}
    )


@dataclass
class Search:
    top: float
    trials: list[tuple[float, Counts]]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "top": self.top,
            "trial_seconds": self.seconds,
            "trials": [
                {"rate": r, "clean": trial_clean(c), "placed": c.placed, "sip_failed": c.sip_failed,
                 "lost_calls": c.lost_calls, "lost_records": c.lost_records, "menus": c.menus}
                for r, c in self.trials
            ],
        }  # fmt: skip


def search_top_rate(
    *,
    seconds: float = SEARCH_SECONDS,
    start: float = SEARCH_START,
    ceiling: float = SEARCH_CEILING,
    bisections: int = 2,
) -> Search:
    """The soak's own call's top rate: trials double the rate from `start` until one is not
    clean, then bisect, on one hotline with agents enough for the ceiling."""
    from hotline.kernel.service_names import ALL_SERVICES

    trials: list[tuple[float, Counts]] = []
    n = agents_needed(ceiling)
    progress(f"soak: the top rate of its call, trials of {seconds:g} s, {n} agents")
    with BenchHotline(agents=agent_configs(n), services=",".join(ALL_SERVICES),
                      classic=False) as h:  # fmt: skip

        def clean(rate: float) -> bool:
            counts = Soak(h, rate, seconds / 60, n).run()
            trials.append((rate, counts))
            ok = trial_clean(counts)
            progress(f"soak trial {rate:g} calls/s: {'clean' if ok else 'NOT clean'}: "
                     f"{counts.placed} placed, {counts.sip_failed} SIP failed, "
                     f"{counts.lost_records} records missing, menus {counts.menus}")  # fmt: skip
            return ok

        good, bad, rate = 0.0, None, start
        while rate <= ceiling:
            if not clean(rate):
                bad = rate
                break
            good, rate = rate, rate * 2
        for _ in range(bisections if bad is not None else 0):
            mid = round((good + bad) / 2)  # type: ignore[operator]
            if mid in (good, bad):
                break
            good, bad = (mid, bad) if clean(mid) else (good, mid)
    return Search(good, trials, seconds)


def soak(rate: float, minutes: float) -> tuple[Counts, list[Sample]]:
    """Start a hotline with every service and the agents, run the soak, stop it."""
    from hotline.kernel.service_names import ALL_SERVICES

    n = agents_needed(rate)
    progress(f"soak: {rate:g} calls/s for {minutes:g} min, {n} agents (talk mean "
             f"{TALK_SECONDS:g} s), RSS every {SAMPLE_SECONDS} s")  # fmt: skip
    everything = ",".join(ALL_SERVICES)
    with BenchHotline(agents=agent_configs(n), services=everything, classic=False) as h:
        s = Soak(h, rate, minutes, n)
        counts = s.run()
        return counts, s.samples
