"""Measurement 8, second part: a queue simulation's service level next to Erlang C.

The simulation of `hotline simulate` (acd/simulate.py: Poisson callers, agents with
exponential talk times, every call found in the call records) on the benchmark's own
hotline; Erlang C is computed for the same agents, arrival rate and measured AHT.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import TARGETS, BenchHotline, progress
from hotline.acd.simulate import AGENT_PORT_BASE, Plan, drive, outcome

# general agents (no skill): callers press 0 for the general queue
AGENTS = [
    {"id": f"20{i + 1:02d}", "name": f"sim agent {i + 1}", "skills": [],
     "contact": f"sip:20{i + 1:02d}@127.0.0.1:{AGENT_PORT_BASE + 2 * i}",
     "qualify_seconds": 0}  # a SIPp run per call (hotline/acd/simulate.py): not asked
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


def simulate(
    h: BenchHotline,
    *,
    agents: int = 2,
    calls_per_hour: float = 600,
    aht_s: float = 9,
    minutes: float = 6,
    target_s: float = 20,
) -> SimResult:
    plan = Plan(agents, calls_per_hour, aht_s, minutes, target_s)
    prefix = h.next_prefix()
    work = h.var / f"sim-{prefix}"
    work.mkdir()
    offered = drive(
        plan,
        work=work,
        target=f"127.0.0.1:{h.settings.sip.port}",
        service=TARGETS["ENG"],
        prefix=prefix,
        agent_ports=[AGENT_PORT_BASE + 2 * i for i in range(agents)],
        report=lambda msg: progress(f"simulation: {msg}"),
    )
    h.drain()
    got = outcome(h.engine, plan, prefix, offered)
    progress(f"simulation: {got.table()}")
    return SimResult(
        agents,
        calls_per_hour,
        aht_s,
        got.offered,
        got.answered,
        got.measured_aht,
        got.measured_sl,
        got.erlang_sl,
    )
