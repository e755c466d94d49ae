"""Questions to the database while a caller is on the line (hotline/agi/lookups.py): each
waits at most the timeout, a stuck thread stays counted, and none is started while every
thread is stuck."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from hotline.agi.errors import LookupGaveUp
from hotline.agi.lookups import Lookups, commit_unless

T = TypeVar("T")


class Gate:
    """A database that answers only when the test says so."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.asked = 0

    def question(self, answer: T) -> Callable[[threading.Event], T]:
        def ask(_: threading.Event) -> T:
            self.asked += 1
            self.open.wait()
            return answer

        return ask


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.open.set()  # no thread of a test is left waiting


async def wait_idle(lookups: Lookups) -> None:
    deadline = time.monotonic() + 10
    while lookups.busy:
        assert time.monotonic() < deadline, "the lookup threads never came back"
        await asyncio.sleep(0.01)


async def test_an_answer_in_time_is_returned() -> None:
    lookups = Lookups(timeout=5, threads=2)
    assert await lookups.ask("q", lambda _: 42, 0) == 42
    await wait_idle(lookups)


async def test_no_answer_in_time_gives_the_fallback_and_the_thread_stays_counted(
    gate: Gate,
) -> None:
    lookups = Lookups(timeout=0.05, threads=2)
    assert await lookups.ask("block list", gate.question("answer"), "fallback") == "fallback"
    assert lookups.busy == 1  # still waiting on the database: it cannot be cancelled
    gate.open.set()
    await wait_idle(lookups)
    assert await lookups.ask("again", lambda _: "answer", "fallback") == "answer"


async def test_nothing_is_asked_while_every_thread_is_stuck(gate: Gate) -> None:
    lookups = Lookups(timeout=0.05, threads=2)
    for _ in range(2):
        assert await lookups.ask("q", gate.question(1), -1) == -1
    assert gate.asked == 2 and lookups.busy == 2
    # a third caller: not asked at all (no third thread), the fallback at once
    third = Gate()
    assert await lookups.ask("q", third.question(1), -1) == -1
    assert third.asked == 0 and lookups.busy == 2
    gate.open.set()
    await wait_idle(lookups)
    assert await lookups.ask("q", lambda _: 7, -1) == 7


async def test_a_failing_question_gives_the_fallback(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_: threading.Event) -> int:
        raise RuntimeError("connection refused")

    lookups = Lookups(timeout=5, threads=1)
    assert await lookups.ask("open orders of 138****8000", broken, 0) == 0
    assert "open orders of 138****8000: failed" in caplog.text
    await wait_idle(lookups)


class Session:
    def __init__(self) -> None:
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1


async def test_a_write_the_caller_gave_up_on_is_not_committed(gate: Gate) -> None:
    session = Session()
    ended: list[BaseException] = []

    def write(gave_up: threading.Event) -> int:
        gate.open.wait()
        try:
            commit_unless(session, gave_up)
        except LookupGaveUp as exc:
            ended.append(exc)
            raise
        return 1

    lookups = Lookups(timeout=0.05, threads=1)
    assert await lookups.ask("callback of call 1", write, None) is None
    gate.open.set()  # the database answers, after the caller heard that it failed
    await wait_idle(lookups)
    assert session.commits == 0 and len(ended) == 1


async def test_a_write_in_time_is_committed() -> None:
    session = Session()
    lookups = Lookups(timeout=5, threads=1)

    def write(gave_up: threading.Event) -> int:
        commit_unless(session, gave_up)
        return 9

    assert await lookups.ask("callback of call 1", write, None) == 9
    assert session.commits == 1


async def test_a_call_that_ends_while_waiting_gives_up_its_write(gate: Gate) -> None:
    seen: list[bool] = []
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()

    def write(gave_up: threading.Event) -> None:
        loop.call_soon_threadsafe(asked.set)
        gate.open.wait()
        seen.append(gave_up.is_set())

    lookups = Lookups(timeout=30, threads=1)
    task = asyncio.create_task(lookups.ask("message of call 1", write, None))
    await asked.wait()
    task.cancel()  # the caller hung up: the route is cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.open.set()
    await wait_idle(lookups)
    assert seen == [True]
