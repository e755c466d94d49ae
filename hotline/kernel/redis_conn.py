"""The one way our services open Redis (asyncio), with the timeout each use can afford."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from hotline.kernel.settings import Site


def redis_client(
    settings: Site, timeout: float = 3.0, *, fail_fast: bool = False, decode: bool = True
) -> aioredis.Redis:
    """A client of the configured Redis. fail_fast: no retry on a dropped connection, for
    writers whose next write comes soon anyway (a blocked call path is worse than a gap)."""
    client = aioredis.Redis(
        host=settings.redis.host,
        port=settings.redis.port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode,
    )
    if fail_fast:
        client.set_retry(Retry(NoBackoff(), retries=1))
    return client
