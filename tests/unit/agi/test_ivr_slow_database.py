"""The voice menu on a database that does not answer (a network that drops packets): the
welcome plays at once, each question gets its fallback within agi.lookup_timeout_seconds,
the call goes on to an agent, and stuck threads do not pile up. The real DbServices on an
engine whose connections never come; fake services that answer only once the welcome
plays, to show that nothing is asked before it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine

from hotline.acd import widening
from hotline.acd.settings import WaitingSettings, WideningSettings
from hotline.agi.services import DbServices, NoServices
from hotline.agi.settings import AgiSettings
from hotline.agi.tree import IvrConfig
from hotline.agi.waiting import WaitRules
from tests.helpers.fake_asterisk import CALLER, AgiServerFactory, FakeAsterisk

TIMEOUT = 0.2  # agi.lookup_timeout_seconds of these tests


class Blackhole:
    """Connections to it are never made (until the test ends)."""

    def __init__(self) -> None:
        self.gone = threading.Event()
        self.attempts = 0

    def connect(self) -> sqlite3.Connection:
        self.attempts += 1
        self.gone.wait()
        raise sqlite3.OperationalError("the database went away")


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.gone.set()  # the stuck threads end


def services_on(hole: Blackhole, root: Path, threads: int) -> DbServices:
    engine = create_engine("sqlite://", creator=hole.connect)
    limits = AgiSettings(lookup_timeout_seconds=TIMEOUT, lookup_threads=threads)
    return DbServices(engine, ZoneInfo("Asia/Shanghai"), root, "hotline/tts", root, limits)


async def run(port: int, data: list[str], **kw: Any) -> FakeAsterisk:
    answers = {"GET DATA": [f"200 result={d}" for d in data], **kw.pop("answers", {})}
    return await asyncio.wait_for(FakeAsterisk(port, answers=answers, **kw).run(), timeout=5)


def played(fake: FakeAsterisk) -> list[str]:
    return [a[0] for a in fake.args_of("STREAM FILE")]


async def test_a_silent_database_still_lets_the_caller_reach_the_desk(
    agi_server: AgiServerFactory, menu: IvrConfig, blackhole: Blackhole, tmp_path: Path
) -> None:
    services = services_on(blackhole, tmp_path, threads=1)
    port = await agi_server(menu, services)
    for _ in range(2):
        fake = await run(port, ["3"])
        assert played(fake)[0] == "hotline/welcome"
        assert "hotline/returning-before" not in played(fake)  # open orders: 0
        assert fake.variables["HOTLINE_QUEUE"] == "complaint"
        assert fake.variables["HOTLINE_IVR_RESULT"] == "chosen"
    # one thread is stuck on the database; nothing more was asked while it is
    assert blackhole.attempts == 1 and services.lookups.busy == 1


async def test_each_question_gets_its_fallback(blackhole: Blackhole, tmp_path: Path) -> None:
    services = services_on(blackhole, tmp_path, threads=8)
    (tmp_path / "message.wav").write_bytes(b"RIFF")
    assert await services.blocked(CALLER) is False
    assert await services.open_orders(CALLER) == 0
    assert await services.find_order("20261124-000777", CALLER, None) is None
    assert await services.request_callback("L1", CALLER, "general", 2, "") is None
    assert await services.leave_message("L1", CALLER, "/message.wav", "complaint") is None
    await services.save_survey("L1", CALLER, "dissatisfied")  # returns, nothing stored
    await services.refused(CALLER, "L1")
    assert services.lookups.busy == 7  # each one asked, each still waiting


async def test_the_routes_fall_back_as_their_dialplan_expects(
    agi_server: AgiServerFactory, menu: IvrConfig, blackhole: Blackhole, tmp_path: Path
) -> None:
    services = services_on(blackhole, tmp_path, threads=16)
    port = await agi_server(menu, services)
    fake = await run(port, [], script="callback", args=("general", "2", ""))
    assert played(fake) == ["hotline/callback-no-number"]
    assert "HOTLINE_CALLBACK" not in fake.variables  # the caller stays in the queue
    (tmp_path / "m.wav").write_bytes(b"RIFF")
    fake = await run(port, [], script="message", args=("/m.wav", "complaint"))
    assert played(fake) == ["hotline/message-failed"]
    # key 7, an order number three times: "not found" each time, then an agent
    fake = await run(port, ["7", *["20261124000777"] * 3])
    assert played(fake).count("hotline/progress-not-found") == 3
    assert fake.variables["HOTLINE_QUEUE"] == "general"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "progress-failed"


class AnswersDuringTheWelcome(NoServices):
    """Answers only once the welcome is playing: a route that waited for the answer before
    the welcome would never get one (and its call would be cut off)."""

    def __init__(self, fake: FakeAsterisk, *, blocked: bool, orders: int) -> None:
        self.fake = fake
        self.is_blocked = blocked
        self.orders = orders
        self.orders_asked_before_the_welcome: bool | None = None

    async def blocked(self, number: str) -> bool:
        await self.fake.reached.wait()  # the fake holds the welcome's STREAM FILE
        self.fake.release.set()
        return self.is_blocked

    async def open_orders(self, number: str) -> int:
        self.orders_asked_before_the_welcome = not self.fake.reached.is_set()
        await self.fake.reached.wait()
        return self.orders


async def test_the_block_list_is_asked_while_the_welcome_plays(
    agi_server: AgiServerFactory, menu: IvrConfig
) -> None:
    holder: list[AnswersDuringTheWelcome] = []

    async def call(blocked: bool, orders: int, keys: list[str]) -> FakeAsterisk:
        fake = FakeAsterisk(
            0, pause_at="STREAM FILE", answers={"GET DATA": [f"200 result={k}" for k in keys]}
        )
        services = AnswersDuringTheWelcome(fake, blocked=blocked, orders=orders)
        holder.append(services)
        fake.port = await agi_server(menu, services)
        return await asyncio.wait_for(fake.run(), timeout=5)

    fake = await call(blocked=True, orders=0, keys=[])
    assert played(fake) == ["hotline/welcome", "hotline/blocked"]
    assert fake.variables["HOTLINE_IVR_RESULT"] == "blocked"

    fake = await call(blocked=False, orders=2, keys=["3"])
    assert played(fake)[:3] == [
        "hotline/welcome",
        "hotline/returning-before",
        "hotline/digit-2",
    ]
    assert fake.variables["HOTLINE_QUEUE"] == "complaint"
    assert holder[-1].orders_asked_before_the_welcome is True


async def test_redis_that_does_not_answer_leaves_the_configured_widening() -> None:
    async def never(queue: str) -> float | None:
        await asyncio.Event().wait()
        return 99.0

    steps = WideningSettings(secondary_after_seconds=3, general_after_seconds=20)
    rules = WaitRules(WaitingSettings(), {"complaint": steps}, never, lookup_seconds=TIMEOUT)
    plan = await rules.plan("complaint")
    assert plan.pace == widening.UNKNOWN
    assert (plan.secondary, plan.general) == (3, 20)
