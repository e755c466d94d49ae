"""When to try again, and what an answer means."""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    DUPLICATE = "duplicate"  # 409: the platform has this key already; counts as delivered
    RETRY = "retry"  # 5xx, 408, 425, 429, timeout, no connection
    DEAD = "dead"  # any other answer: the platform refuses this change as it is


RETRY_STATUSES = frozenset({408, 425, 429})


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 409:
        return Outcome.DUPLICATE
    if status >= 500 or status in RETRY_STATUSES:
        return Outcome.RETRY
    return Outcome.DEAD  # 3xx (redirects are not followed: a wrong URL) and 4xx


def backoff(
    attempts: int, first: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after the `attempts`-th failure: doubling from `first`, capped,
    then a random half to whole of it, so that many hotlines do not retry in step."""
    step = min(cap, first * 2 ** max(attempts - 1, 0))
    return float(step * (0.5 + 0.5 * rand()))
