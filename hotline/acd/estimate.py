"""How long a caller joining a queue will wait, as the voice menu tells them."""

from __future__ import annotations


def estimated_wait(
    position: int, logged_in: int, ready: int, handle_seconds: float
) -> float | None:
    """Seconds until an agent takes the caller at `position` (1 = next); None if nobody is in.

    Callers up to the number of ready agents are served at once. Behind them, with
    every agent busy and exponential handling times, one agent frees up every
    handle_seconds / logged_in on average, so the k-th caller still waiting for
    a busy agent waits k times that.
    """
    if position < 1:
        raise ValueError("a position in the queue starts at 1")
    if ready >= position:
        return 0.0
    if logged_in <= 0:
        return None
    behind_busy = position - max(ready, 0)
    return behind_busy * handle_seconds / logged_in


def over_limit(estimate: float | None, limit_seconds: float) -> bool:
    """Whether to offer a callback or a message: unknown (nobody logged in) counts as over."""
    return estimate is None or estimate > limit_seconds
