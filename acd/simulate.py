"""`hotline simulate`: callers and agents on SIPp against a running hotline.

Callers arrive as a Poisson process (one SIPp caller each, started at exponential
intervals), press 0 for the general queue and wait for an agent (the IVR answered
them already, so SIP gives a caller no sign of an agent: a simulated caller does
not give up). Agents are SIPp desk phones that answer
at once and talk for an exponential time (one SIPp run per call, so each call
draws its own time). Every offered call is then found in the stored call records:
answered or abandoned; the service level is recomputed from them (queue join to
answer within the target) and printed next to Erlang C for the same figures.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from acd.erlang import service_level
from crm_bridge.models import CallRecord

SCENARIOS = Path(__file__).resolve().parent / "sipp"
# Simulated agents' desk phones and the callers use these local ports.
AGENT_PORT_BASE = 5100
CALLER_PORT_BASE = 6100


def scenario(name: str, **values: object) -> str:
    """One of acd/sipp/*.xml with its ${placeholders} filled in."""
    return Template((SCENARIOS / name).read_text()).substitute(values)


def sipp() -> str:
    exe = shutil.which("sipp")
    if exe is None:
        raise RuntimeError("SIPp is missing: apt-get install -y sip-tester (scripts/setup does)")
    return exe


@dataclass(frozen=True)
class Plan:
    agents: int
    calls_per_hour: float
    aht_seconds: float
    minutes: float
    target_seconds: float = 20
    seed: int = 12345


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    offered: int
    answered: int
    abandoned: int
    unaccounted: int  # offered but no call record found
    measured_aht: float
    measured_sl: float  # answered within the target / offered
    erlang_sl: float

    def table(self) -> str:
        p = self.plan
        return "\n".join(
            [
                f"agents {p.agents}, {p.calls_per_hour:g} calls/h, AHT {p.aht_seconds:g} s, "
                f"{p.minutes:g} min",
                f"offered {self.offered}, answered {self.answered}, abandoned {self.abandoned}, "
                f"unaccounted {self.unaccounted}; measured AHT {self.measured_aht:.1f} s",
                f"service level ({p.target_seconds:g} s): measured {self.measured_sl:.1%}, "
                f"Erlang C {self.erlang_sl:.1%}",
            ]
        )


def agent_loop(
    work: Path,
    target: str,
    port: int,
    media_port: int,
    aht: float,
    seed: int,
    stop: threading.Event,
) -> None:
    """One desk phone: answer, talk an exponential time, hang up; again until stopped."""
    rng = random.Random(seed)
    n = 0
    while not stop.is_set():
        n += 1
        xml = work / f"agent-{port}-{n}.xml"
        talk_ms = int(rng.expovariate(1 / aht) * 1000)
        xml.write_text(scenario("agent_talks.xml", talk_ms=talk_ms, asterisk=target))
        # fmt: off
        proc = subprocess.Popen(
            [sipp(), "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media_port),
             "-m", "1", "-nostdin", "-timeout", "3600s"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # fmt: on
        while proc.poll() is None:
            if stop.wait(0.2):
                proc.terminate()
                proc.wait(5)
                return
        xml.unlink()


def drive(
    plan: Plan,
    *,
    work: Path,
    target: str,
    service: str,
    prefix: str,
    agent_ports: list[int],
    report: Callable[[str], None] = lambda _: None,
) -> int:
    """Run the callers and the agents; return how many calls were offered."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=agent_loop,
            args=(work, target, port, 17500 + 20 * i, plan.aht_seconds, plan.seed + 10 + i, stop),
            daemon=True,
        )
        for i, port in enumerate(agent_ports)
    ]
    for t in threads:
        t.start()
    rng = random.Random(plan.seed)
    callers: list[subprocess.Popen[bytes]] = []
    end = time.monotonic() + plan.minutes * 60
    next_at = time.monotonic() + rng.expovariate(plan.calls_per_hour / 3600)
    try:
        while next_at < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            n = len(callers)
            xml = work / f"caller-{n}.xml"
            xml.write_text(scenario("wait_for_agent.xml", prefix=f"{prefix}{n:04d}", key=0))
            # fmt: off
            callers.append(subprocess.Popen(
                [sipp(), target, "-sf", str(xml), "-s", service, "-m", "1", "-i", "127.0.0.1",
                 "-p", str(CALLER_PORT_BASE + n), "-mp", str(22000 + 4 * n), "-nostdin",
                 "-timeout", "3600s"],
                cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
            # fmt: on
            if len(callers) % 10 == 0:
                report(f"{len(callers)} callers so far")
            next_at += rng.expovariate(plan.calls_per_hour / 3600)
        for c in callers:  # the last callers still wait for the agents
            try:
                c.wait(3600)
            except subprocess.TimeoutExpired:
                c.kill()
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    return len(callers)


def outcome(engine: Engine, plan: Plan, prefix: str, offered: int, wait: float = 30) -> Outcome:
    """Every offered call from the call records (the bridge stores each one at hang-up)."""
    deadline = time.monotonic() + wait
    while True:
        with Session(engine) as s:
            recs = list(
                s.exec(select(CallRecord).where(col(CallRecord.caller_number).startswith(prefix)))
            )
        if len(recs) >= offered or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    answered = [r for r in recs if r.answered_at is not None]
    in_time = [r for r in answered if (r.wait_seconds or 0) <= plan.target_seconds]
    talk = [r.talk_seconds for r in answered if r.talk_seconds is not None]
    aht = sum(talk) / len(talk) if talk else plan.aht_seconds
    return Outcome(
        plan=plan,
        offered=offered,
        answered=len(answered),
        abandoned=len(recs) - len(answered),
        unaccounted=max(offered - len(recs), 0),
        measured_aht=aht,
        measured_sl=len(in_time) / offered if offered else 0.0,
        erlang_sl=service_level(plan.agents, plan.calls_per_hour, aht, plan.target_seconds),
    )
