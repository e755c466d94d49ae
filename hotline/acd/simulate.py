"""`hotline simulate`: callers and agents on SIPp against a running hotline.

Callers arrive as a Poisson process (one SIPp caller each, started at exponential
intervals), press 0 for the general queue and wait for an agent (the IVR answered
them already, so SIP gives a caller no sign of an agent: a simulated caller does
not give up). Agents are SIPp desk phones that answer
at once and talk for an exponential time (one SIPp run per call, so each call
draws its own time). Every offered call is then found in the stored call records:
answered or abandoned; the service level is recomputed from them (queue join to
answer within the target) and printed next to Erlang C for the same figures, and
next to the service level the system itself reported over the run (the live
numbers of the general queue in Redis, before and after).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import redis
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.acd import live_keys
from hotline.acd.erlang import service_level
from hotline.acd.errors import LiveNumbersError
from hotline.acd.settings import AcdConfig
from hotline.calls.models import CallRecord

SCENARIOS = Path(__file__).resolve().parent / "sipp"
# Simulated agents' desk phones and the callers use these local ports.
AGENT_PORT_BASE = 5100
CALLER_PORT_BASE = 6100
# The simulated callers press 0: the general queue, whose live numbers are compared.
QUEUE = "general"


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
class Judged:
    """A service level as its two counts, defined as the live numbers define it
    (acd/live_stats.py): of the calls that finished in the queue (answered, abandoned or
    left it), those answered with a wait of at most the target, the wait counted from
    the call's first queue join."""

    finished: int
    within: int

    def percent(self) -> str:
        return f"{self.within / self.finished:.1%}" if self.finished else "n/a"

    def describe(self, target: float) -> str:
        return (
            f"answered within {target:g} s {self.within} of {self.finished} finished "
            f"({self.percent()})"
        )


def judged_from_records(records: Iterable[CallRecord], target: float) -> Judged:
    """The records' side: every call that joined a queue has finished there."""
    queued = [r for r in records if r.queue_joined_at is not None]
    within = [
        r
        for r in queued
        if r.answered_at is not None and r.wait_seconds is not None and r.wait_seconds <= target
    ]
    return Judged(finished=len(queued), within=len(within))


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    offered: int
    answered: int
    abandoned: int
    unaccounted: int  # offered but no call record found
    measured_aht: float
    records: Judged  # recomputed from the call records
    erlang_sl: float
    system: Judged | None = None  # what the live numbers counted over the run
    other_calls: int = 0  # calls in the measured queue that were not the simulation's

    @property
    def measured_sl(self) -> float:
        """Answered within the target / calls that finished in the queue (records)."""
        r = self.records
        return r.within / r.finished if r.finished else 0.0

    def table(self) -> str:
        p = self.plan
        lines = [
            f"agents {p.agents}, {p.calls_per_hour:g} calls/h, AHT {p.aht_seconds:g} s, "
            f"{p.minutes:g} min",
            f"offered {self.offered}, answered {self.answered}, abandoned {self.abandoned}, "
            f"unaccounted {self.unaccounted}; measured AHT {self.measured_aht:.1f} s",
            f"call records: {self.records.describe(p.target_seconds)}",
        ]
        if self.system is not None:
            lines.append(
                f"the system (live numbers, queue {QUEUE}): "
                f"{self.system.describe(p.target_seconds)}"
            )
            if self.other_calls:
                lines.append(
                    f"note: {self.other_calls} other call(s) joined queue {QUEUE} during the "
                    "run; the system's figure counts them too"
                )
        lines.append(
            f"service level ({p.target_seconds:g} s): measured {self.measured_sl:.1%}, "
            f"Erlang C {self.erlang_sl:.1%}"
        )
        return "\n".join(lines)

    @property
    def disagrees(self) -> bool:
        """The system reported another service level than the records give, with no
        other traffic to explain it."""
        return self.system is not None and not self.other_calls and self.system != self.records


@dataclass(frozen=True)
class LiveFigures:
    """Today's counts of one queue as the live service published them."""

    day: str
    offered: int
    finished: int  # answered + abandoned + left
    answered_within: dict[str, int]  # threshold (s) -> calls

    @classmethod
    def from_snapshot(cls, snap: Mapping[str, Any]) -> LiveFigures:
        try:
            today = snap["today"]
            return cls(
                day=str(snap["day"]),
                offered=int(today["offered"]),
                finished=int(today["answered"]) + int(today["abandoned"]) + int(today["left"]),
                answered_within={str(k): int(v) for k, v in today["answered_within"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LiveNumbersError(f"live numbers without {exc} (an older live service?)") from None


def threshold_key(target: float) -> str:
    """The live numbers' name for a threshold: whole seconds, as configured."""
    return str(int(target)) if float(target).is_integer() else str(target)


def live_delta(before: LiveFigures, after: LiveFigures, target: float) -> tuple[int, Judged]:
    """What the system counted between two readings: calls offered, and the service
    level over the interval (Δ answered within the target ÷ Δ finished)."""
    if before.day != after.day:
        raise LiveNumbersError(
            f"the day changed during the run ({before.day} -> {after.day}): today's live "
            "counters start again at midnight; run the simulation again"
        )
    key = threshold_key(target)
    if key not in after.answered_within:
        raise LiveNumbersError(
            f"the live numbers have no {key} s service level "
            f"(live.service_level_seconds: {', '.join(sorted(after.answered_within, key=float))})"
        )
    within = after.answered_within[key] - before.answered_within.get(key, 0)
    judged = Judged(finished=after.finished - before.finished, within=within)
    return after.offered - before.offered, judged


def read_live(settings: AcdConfig, queue: str = QUEUE) -> LiveFigures:
    """One queue's live numbers from Redis (field `json` of its hash)."""
    key = live_keys.queue_key(settings.live_namespace, queue)
    where = f"Redis {settings.redis.host}:{settings.redis.port} {key}"
    r = redis.Redis(
        host=settings.redis.host,
        port=settings.redis.port,
        socket_timeout=2,
        socket_connect_timeout=2,
        decode_responses=True,
    )
    try:
        raw = r.hget(key, "json")
    except (redis.RedisError, OSError) as exc:
        raise LiveNumbersError(f"{where}: {exc}") from None
    finally:
        r.close()
    if not isinstance(raw, str):
        raise LiveNumbersError(
            f"{where}: no live numbers; is the live service running "
            "(hotline up, or hotline serve live)?"
        )
    try:
        snap = json.loads(raw)
    except ValueError as exc:
        raise LiveNumbersError(f"{where}: unreadable ({exc})") from None
    return LiveFigures.from_snapshot(snap)


def await_live(
    read: Callable[[], LiveFigures],
    before: LiveFigures,
    calls: int,
    *,
    timeout: float = 30,
    poll: float = 0.5,
) -> LiveFigures:
    """Read the live numbers until they count `calls` more calls offered and finished
    than `before` (the live service writes about once a second)."""
    deadline = time.monotonic() + timeout
    seen = "nothing read"
    while True:
        try:
            after = read()
            if after.day != before.day:
                return after  # live_delta says why this cannot be compared
            offered, finished = after.offered - before.offered, after.finished - before.finished
            if offered >= calls and finished >= calls:
                return after
            seen = f"{offered} offered, {finished} finished"
        except LiveNumbersError as exc:
            seen = str(exc)
        if time.monotonic() >= deadline:
            raise LiveNumbersError(
                f"the live numbers of queue {QUEUE} did not count the simulation's {calls} "
                f"call(s) within {timeout:g} s ({seen}); is the live service running and "
                "connected to AMI?"
            )
        time.sleep(poll)


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


def outcome(
    engine: Engine,
    plan: Plan,
    prefix: str,
    offered: int,
    wait: float = 30,
    *,
    live_before: LiveFigures | None = None,
    read: Callable[[], LiveFigures] | None = None,
    live_wait: float = 30,
) -> Outcome:
    """Every offered call from the call records (the bridge stores each one at hang-up);
    with `live_before` and `read`, also what the system's live numbers counted."""
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
    talk = [r.talk_seconds for r in answered if r.talk_seconds is not None]
    aht = sum(talk) / len(talk) if talk else plan.aht_seconds
    records = judged_from_records(recs, plan.target_seconds)
    system, other = None, 0
    if live_before is not None and read is not None:
        after = await_live(read, live_before, records.finished, timeout=live_wait)
        joined, system = live_delta(live_before, after, plan.target_seconds)
        # a call of someone else's that joined or finished in the queue meanwhile
        other = max(joined - records.finished, system.finished - records.finished, 0)
    return Outcome(
        plan=plan,
        offered=offered,
        answered=len(answered),
        abandoned=len(recs) - len(answered),
        unaccounted=max(offered - len(recs), 0),
        measured_aht=aht,
        records=records,
        erlang_sl=service_level(plan.agents, plan.calls_per_hour, aht, plan.target_seconds),
        system=system,
        other_calls=other,
    )
