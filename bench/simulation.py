"""Measurement 8, second part: a queue simulation's service level next to Erlang C.

Callers arrive as a Poisson process (one SIPp caller each, started at exponential
intervals), press 0 for the general queue and wait for an agent without hanging up.
Agents are SIPp phones that answer at once and talk for an exponential time (one
SIPp run per call, so each call draws its own time). The service level is read
from the stored call records (queue join → answer ≤ 20 s), and Erlang C is
computed for the same agents, arrival rate and the handling time measured.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass

from sqlmodel import Session, col, select

from acd.erlang import service_level
from bench.harness import TARGETS, BenchHotline, progress, sipp_scenario
from crm_bridge.models import CallRecord

# general agents (no skill): callers press 0 for the general queue
AGENTS = [
    {"id": f"20{i + 1:02d}", "name": f"sim agent {i + 1}", "skills": [],
     "contact": f"sip:20{i + 1:02d}@127.0.0.1:{5090 + 2 * i}"}
    for i in range(2)
]  # fmt: skip


@dataclass
class SimResult:
    agents: int
    calls_per_hour: float
    aht_target_s: float
    offered: int
    answered: int
    measured_aht_s: float
    measured_sl: float
    erlang_sl: float


def _agent_loop(h: BenchHotline, index: int, aht_s: float, stop: threading.Event) -> None:
    work = h.var / f"sim-agent-{index}"
    work.mkdir(exist_ok=True)
    port, media = 5090 + 2 * index, 17500 + 20 * index
    rng = random.Random(index)
    n = 0
    while not stop.is_set():
        n += 1
        xml = work / f"agent-{n}.xml"
        xml.write_text(
            sipp_scenario(
                "agent_talks.xml",
                talk_ms=int(rng.expovariate(1 / aht_s) * 1000),
                asterisk=f"127.0.0.1:{h.settings.sip.port}",
            )
        )
        # fmt: off
        proc = subprocess.Popen(
            ["sipp", "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
             "-m", "1", "-nostdin", "-timeout", "600s"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # fmt: on
        while proc.poll() is None:
            if stop.wait(0.2):
                proc.terminate()
                proc.wait(5)
                return
        xml.unlink()


def simulate(
    h: BenchHotline,
    *,
    agents: int = 2,
    calls_per_hour: float = 600,
    aht_s: float = 9,
    minutes: float = 6,
    target_s: float = 20,
) -> SimResult:
    prefix = h.next_prefix()
    work = h.var / f"sim-{prefix}"
    work.mkdir()
    caller_xml = work / "caller.xml"
    caller_xml.write_text(sipp_scenario("wait_for_agent.xml", prefix=prefix, key=0))
    stop = threading.Event()
    threads = [
        threading.Thread(target=_agent_loop, args=(h, i, aht_s, stop), daemon=True)
        for i in range(agents)
    ]
    for t in threads:
        t.start()
    rng = random.Random(12345)
    callers: list[subprocess.Popen[bytes]] = []
    end = time.monotonic() + minutes * 60
    next_at = time.monotonic() + rng.expovariate(calls_per_hour / 3600)
    while next_at < end:
        time.sleep(max(0.0, next_at - time.monotonic()))
        # fmt: off
        callers.append(subprocess.Popen(
            ["sipp", f"127.0.0.1:{h.settings.sip.port}", "-sf", str(caller_xml),
             "-s", TARGETS["ENG"], "-m", "1", "-i", "127.0.0.1", "-p", str(6100 + len(callers)),
             "-mp", str(22000 + 4 * len(callers)), "-nostdin", "-timeout", "900s"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        # fmt: on
        if len(callers) % 10 == 0:
            progress(f"simulation: {len(callers)} callers so far")
        next_at += rng.expovariate(calls_per_hour / 3600)
    for c in callers:  # the last callers still wait for the agents
        try:
            c.wait(600)
        except subprocess.TimeoutExpired:
            c.kill()
    stop.set()
    for t in threads:
        t.join(10)
    h.drain()
    return _result(h, prefix, agents, calls_per_hour, aht_s, len(callers), target_s)


def _result(
    h: BenchHotline,
    prefix: str,
    agents: int,
    calls_per_hour: float,
    aht_s: float,
    offered: int,
    target_s: float,
) -> SimResult:
    deadline = time.monotonic() + 30
    while True:
        with Session(h.engine) as s:
            recs = s.exec(
                select(CallRecord).where(col(CallRecord.caller_number).startswith(prefix))
            ).all()
        if len(recs) >= offered or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    answered = [r for r in recs if r.answered_at is not None]
    in_time = [r for r in answered if (r.wait_seconds or 0) <= target_s]
    talk = [r.talk_seconds for r in answered if r.talk_seconds is not None]
    aht = sum(talk) / len(talk) if talk else aht_s
    result = SimResult(
        agents,
        calls_per_hour,
        aht_s,
        offered,
        len(answered),
        aht,
        len(in_time) / offered if offered else 0.0,
        service_level(agents, calls_per_hour, aht, target_s),
    )
    progress(
        f"simulation: {offered} offered, {len(answered)} answered, AHT {aht:.1f} s; service "
        f"level {result.measured_sl:.1%} measured, {result.erlang_sl:.1%} Erlang C"
    )
    return result
