"""Erlang C: the service level a queue should reach, for comparison with measurement.

Poisson arrivals at `calls_per_hour`, exponential handling times with mean
`aht_seconds`, `agents` identical servers, callers who never abandon.
"""

from __future__ import annotations

import math


def offered_load(calls_per_hour: float, aht_seconds: float) -> float:
    """Traffic in erlangs."""
    return calls_per_hour * aht_seconds / 3600


def probability_of_waiting(agents: int, erlangs: float) -> float:
    """Erlang C: the chance that an arriving caller waits (1.0 when overloaded)."""
    if agents <= 0 or erlangs >= agents:
        return 1.0
    if erlangs <= 0:
        return 0.0
    # Erlang B by its stable recurrence, then C from B
    b = 1.0
    for k in range(1, agents + 1):
        b = erlangs * b / (k + erlangs * b)
    return agents * b / (agents - erlangs * (1 - b))


def service_level(agents: int, calls_per_hour: float, aht_seconds: float, target_s: float) -> float:
    """Share of callers answered within `target_s` seconds of joining the queue."""
    a = offered_load(calls_per_hour, aht_seconds)
    if agents <= a:
        return 0.0
    pw = probability_of_waiting(agents, a)
    return 1 - pw * math.exp(-(agents - a) * target_s / aht_seconds)


def average_speed_of_answer(agents: int, calls_per_hour: float, aht_seconds: float) -> float:
    a = offered_load(calls_per_hour, aht_seconds)
    if agents <= a:
        return math.inf
    return probability_of_waiting(agents, a) * aht_seconds / (agents - a)
