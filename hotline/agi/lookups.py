"""Database questions asked while a caller is on the line: each awaited at most a short
time (agi.lookup_timeout_seconds), on a few threads of its own, with a fallback answer.

A thread blocked in a query cannot be cancelled (nor can asyncio.to_thread's): the caller
stops waiting, the thread stays until the database or TCP gives up, which on a network
that drops packets may be never. So the threads are few and counted, and no question is
started while all of them are busy: at most `threads` are ever stuck, and every later
caller gets the fallback at once. The threads are daemons of our own, not a
ThreadPoolExecutor, whose exit handler would wait for a stuck thread and keep the process
from stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hotline.agi.errors import LookupGaveUp

log = logging.getLogger(__name__)

T = TypeVar("T")

# A saturated pool is reported at most this often (every caller meets it).
WARN_EVERY_SECONDS = 30.0


def commit_unless(session: Any, gave_up: threading.Event) -> None:
    """Commit, unless the caller already heard the fallback (then roll back: a callback or a
    work order the caller was told failed must not appear afterwards)."""
    if gave_up.is_set():
        raise LookupGaveUp
    session.commit()


@dataclass
class _Job:
    question: Callable[[threading.Event], Any]
    gave_up: threading.Event
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class Lookups:
    def __init__(self, *, timeout: float, threads: int) -> None:
        self.timeout = timeout
        self.threads = threads
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._busy = 0
        self._started = 0
        self._warned_at = -WARN_EVERY_SECONDS

    @property
    def busy(self) -> int:
        """Questions handed to a thread and not finished there (stuck ones included)."""
        with self._lock:
            return self._busy

    async def ask(self, what: str, question: Callable[[threading.Event], T], fallback: T) -> T:
        """question's answer, or `fallback` when it fails, does not answer within the timeout
        or no thread is free. question gets an Event set once the caller stopped waiting
        (a write passes it to commit_unless)."""
        if not self._take():
            self._warn_saturated(what)
            return fallback
        loop = asyncio.get_running_loop()
        job = _Job(question, threading.Event(), loop, loop.create_future())
        self._jobs.put(job)
        try:
            async with asyncio.timeout(self.timeout):
                return await job.future  # type: ignore[no-any-return]
        except TimeoutError:
            log.warning("%s: no answer within %g s; the call goes on", what, self.timeout)
        except Exception:
            log.exception("%s: failed; the call goes on", what)
        finally:
            if job.future.cancelled():  # timed out, or the call ended meanwhile
                job.gave_up.set()
        return fallback

    def _take(self) -> bool:
        with self._lock:
            if self._busy >= self.threads:
                return False
            self._busy += 1
            if self._started < self._busy:  # threads start as they are first needed
                self._started += 1
                threading.Thread(target=self._work, name="agi-lookup", daemon=True).start()
            return True

    def _warn_saturated(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "%s: not asked: all %d lookup threads wait on the database (it does not "
                "answer); callers get the fallback at once",
                what,
                self.threads,
            )

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                outcome: tuple[bool, Any] = (True, job.question(job.gave_up))
            except BaseException as exc:  # handed to the caller, who logs it
                outcome = (False, exc)
            with self._lock:
                self._busy -= 1
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                job.loop.call_soon_threadsafe(_settle, job.future, outcome)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():  # cancelled: the caller gave up
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
