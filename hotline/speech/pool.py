"""A bounded pool of recognisers over the one shared model.

Each slot is a worker thread that decodes one caller's audio; when every slot is taken
the next caller is told at once (and hears the key menu) instead of waiting for one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def pool_size(configured: int) -> int:
    """settings.speech.pool_size, 0 meaning one recogniser per CPU core."""
    return configured or os.cpu_count() or 1


class RecogniserPool:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a recogniser pool needs at least one slot, not {size}")
        self.size = size
        self._lock = threading.Lock()
        self._busy = 0
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="recogniser")

    @property
    def busy(self) -> int:
        return self._busy

    def try_take(self) -> bool:
        """Take a slot if one is free; never waits."""
        with self._lock:
            if self._busy >= self.size:
                return False
            self._busy += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._busy = max(0, self._busy - 1)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run fn (decoding) on the pool's threads, off the event loop."""
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
