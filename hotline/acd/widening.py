"""Widening the agent pool while a caller waits (art. 25: answered within 20 s).

The dialplan takes the steps ([hotline-queues] in extensions.conf): the most
proficient agents of the request type first, then every agent with the skill, then
the general pool, then the overflow trunk; each step taken is a HotlineWiden
UserEvent that the CRM bridge writes on the call record. The IVR decides when, at
the moment the caller joins: on the configured times while the queue's live service
level meets the target, sooner (acd.widening.behind_factor) while it does not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from hotline.acd import live_keys
from hotline.acd.settings import AcdConfig, WideningSettings
from hotline.kernel.redis_conn import redis_client

log = logging.getLogger(__name__)

# Channel variables the dialplan reads (with the configured times when they are unset).
WIDEN_SECONDARY = "HOTLINE_WIDEN_SECONDARY"
WIDEN_GENERAL = "HOTLINE_WIDEN_GENERAL"
WIDEN_TRUNK = "HOTLINE_WIDEN_TRUNK"
WIDEN_PACE = "HOTLINE_WIDEN_PACE"

ON_TARGET, BEHIND, UNKNOWN = "on-target", "behind", "unknown"

# The service level (%) of a queue over the live window, None when nothing is known.
ServiceLevel = Callable[[str], Awaitable[float | None]]


async def no_service_level(queue: str) -> float | None:
    return None


@dataclass(frozen=True)
class WideningPlan:
    secondary: int  # seconds from the first queue join; 0: from the start
    general: int
    trunk: int | None
    pace: str  # ON_TARGET, BEHIND or UNKNOWN (no live numbers: the configured times)

    def variables(self) -> dict[str, str]:
        out = {
            WIDEN_SECONDARY: str(self.secondary),
            WIDEN_GENERAL: str(self.general),
            WIDEN_PACE: self.pace,
        }
        if self.trunk is not None:
            out[WIDEN_TRUNK] = str(self.trunk)
        return out


def plan(steps: WideningSettings, service_level: float | None, target: float) -> WideningPlan:
    """The steps for a caller joining now, given the queue's live service level (%)."""
    if service_level is None:
        pace, factor = UNKNOWN, 1.0
    elif service_level < target:
        pace, factor = BEHIND, steps.behind_factor
    else:
        pace, factor = ON_TARGET, 1.0
    secondary = round(steps.secondary_after_seconds * factor)
    general = max(1, secondary, round(steps.general_after_seconds * factor))
    trunk = None
    if steps.trunk_after_seconds is not None:
        trunk = max(general + 1, round(steps.trunk_after_seconds * factor))
    return WideningPlan(secondary, general, trunk, pace)


class LiveServiceLevel:
    """Reads a queue's live service level from Redis (what the live service publishes):
    the window's figure at the regulation's threshold, the largest configured one."""

    def __init__(self, settings: AcdConfig, timeout: float = 0.5) -> None:
        self.tenant = settings.live_namespace
        self.threshold = str(max(settings.live.service_level_seconds))
        self.redis = redis_client(settings, timeout)

    async def __call__(self, queue: str) -> float | None:
        try:
            raw = await self.redis.hget(live_keys.queue_key(self.tenant, queue), "json")
        except (RedisError, OSError) as exc:
            log.warning(
                "live service level of %s unknown (Redis: %s): configured steps", queue, exc
            )
            return None
        if not raw:
            return None
        try:
            value = json.loads(raw)["window"]["service_level"][self.threshold]
            return None if value is None else float(value)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("live numbers of %s unreadable (%s): configured steps", queue, exc)
            return None

    async def close(self) -> None:
        await self.redis.aclose()
