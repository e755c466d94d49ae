"""Waiting in a queue: the estimate, the offer on joining, keys 1 (callback) and 2
(message) through the real FastAGI server and a fake Asterisk; callbacks' states
and a message's work order in a real (SQLite) database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.acd import callbacks
from hotline.acd.estimate import estimated_wait, over_limit
from hotline.acd.models import CallbackStatus
from hotline.acd.settings import CallbackSettings, WaitingSettings, WideningSettings
from hotline.agi.menu import DEFAULT_MENU_FILE
from hotline.agi.messages import order_from_message
from hotline.agi.services import NoServices
from hotline.agi.tree import IvrConfig, load_ivr
from hotline.agi.waiting import WaitRules
from hotline.kernel.db import make_engine, upgrade
from hotline.recordings.models import Recording, message_key
from hotline.workorders.models import WorkOrder, WorkOrderAttachment
from tests.helpers.fake_asterisk import CALLER, QUEUES, AgiServerFactory, FakeAsterisk

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
RULES = WaitRules(
    WaitingSettings(offer_over_seconds=60),
    {"complaint": WideningSettings(general_after_seconds=20)},
)


# The estimate ---------------------------------------------------------------------
def test_ready_agents_take_the_first_callers_at_once() -> None:
    assert estimated_wait(2, logged_in=3, ready=2, handle_seconds=300) == 0


def test_behind_busy_agents_one_frees_up_every_handle_time_over_agents() -> None:
    assert estimated_wait(4, logged_in=2, ready=0, handle_seconds=300) == 600
    assert estimated_wait(3, logged_in=2, ready=1, handle_seconds=300) == 300


def test_nobody_logged_in_is_unknown_and_counts_as_over_the_limit() -> None:
    assert estimated_wait(1, logged_in=0, ready=0, handle_seconds=300) is None
    assert over_limit(None, 60) and over_limit(61, 60) and not over_limit(60, 60)


def test_a_position_starts_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        estimated_wait(0, 1, 1, 300)


# The routes through the FastAGI server --------------------------------------------
class WaitingServices(NoServices):
    def __init__(self, order: str | None = "20261124-000042", callback_id: int | None = 7) -> None:
        self.order = order
        self.callback_id = callback_id
        self.requests: list[tuple[str, str, str, int, str]] = []
        self.messages: list[tuple[str, str, str, str]] = []

    async def request_callback(
        self, linkedid: str, number: str, queue: str, position: int, request_type: str
    ) -> int | None:
        self.requests.append((linkedid, number, queue, position, request_type))
        return self.callback_id

    async def leave_message(
        self, linkedid: str, caller: str, path: str, request_type: str
    ) -> str | None:
        self.messages.append((linkedid, caller, path, request_type))
        return self.order


@pytest.fixture(scope="module")
def config() -> IvrConfig:
    return load_ivr(DEFAULT_MENU_FILE, QUEUES)


@pytest.fixture
def start(agi_server: AgiServerFactory, config: IvrConfig) -> AgiServerFactory:
    """make(services, rules=RULES): the shipped menu with these services."""

    async def make(services: NoServices, rules: WaitRules | None = RULES) -> int:
        return await agi_server(config, services, rules)

    return make


async def run(port: int, **kw: Any) -> FakeAsterisk:
    return await asyncio.wait_for(FakeAsterisk(port, **kw).run(), timeout=3)


def played(fake: FakeAsterisk) -> list[str]:
    return [a[0] for a in fake.args_of("STREAM FILE")]


def counts(waiting: int, logged: int, ready: int) -> list[str]:
    return [f"200 result=1 ({n})" for n in (waiting, logged, ready)]


async def test_a_long_wait_is_offered_callback_on_joining(start: Any) -> None:
    port = await start(WaitingServices())
    # key 0: the general queue, 3 waiting, one busy agent: (4 x 300 s) / 1 > 60 s
    fake = await run(
        port,
        answers={
            "GET DATA": ["200 result=0", "200 result=1"],
            "GET FULL VARIABLE": counts(3, 1, 0),
        },
    )
    assert fake.args_of("GET FULL VARIABLE") == [
        ["${QUEUE_WAITING_COUNT(hotline-general)}"],
        ["${QUEUE_MEMBER(hotline-general,logged)}"],
        ["${QUEUE_MEMBER(hotline-general,ready)}"],
    ]
    assert played(fake)[-1] == "hotline/queue-busy"
    assert fake.args_of("GET DATA")[-1][0] == "hotline/queue-offer"
    assert fake.variables["HOTLINE_WAIT_CHOICE"] == "callback"
    assert fake.variables["HOTLINE_QUEUE"] == "general"


async def test_key_2_during_the_busy_notice_leaves_a_message(start: Any) -> None:
    port = await start(WaitingServices())
    fake = await run(
        port,
        answers={
            "GET DATA": ["200 result=0"],
            "GET FULL VARIABLE": counts(0, 0, 0),  # nobody logged in: unknown wait
            # welcome, transfer, then "2" during queue-busy
            "STREAM FILE": ["200 result=0 endpos=1"] * 2 + ["200 result=50 endpos=9"],
        },
    )
    assert fake.variables["HOTLINE_WAIT_CHOICE"] == "message"


async def test_a_short_wait_joins_the_queue_without_an_offer(start: Any) -> None:
    port = await start(WaitingServices())
    fake = await run(
        port, answers={"GET DATA": ["200 result=0"], "GET FULL VARIABLE": counts(1, 2, 2)}
    )
    assert "hotline/queue-busy" not in played(fake)
    assert "HOTLINE_WAIT_CHOICE" not in fake.variables


async def test_a_skill_queue_counts_the_widening_to_general(start: Any) -> None:
    port = await start(WaitingServices())
    # key 3: complaint has nobody, general has a ready agent: general after 20 s + 0 s < 60 s
    fake = await run(
        port,
        answers={
            "GET DATA": ["200 result=3"],
            "GET FULL VARIABLE": counts(0, 0, 0) + counts(0, 1, 1),
        },
    )
    assert ["${QUEUE_MEMBER(hotline-general,ready)}"] in fake.args_of("GET FULL VARIABLE")
    assert "HOTLINE_WAIT_CHOICE" not in fake.variables
    assert fake.variables["HOTLINE_QUEUE"] == "complaint"
    # no live numbers: the configured widening times
    assert fake.variables["HOTLINE_WIDEN_SECONDARY"] == "5"
    assert fake.variables["HOTLINE_WIDEN_GENERAL"] == "20"
    assert fake.variables["HOTLINE_WIDEN_PACE"] == "unknown"


async def test_a_queue_below_its_service_level_widens_sooner(start: Any) -> None:
    asked: list[str] = []

    async def level(queue: str) -> float | None:
        asked.append(queue)
        return 80.0  # below the 95 % target

    rules = WaitRules(
        WaitingSettings(offer_over_seconds=60),
        {"complaint": WideningSettings(secondary_after_seconds=6, general_after_seconds=20)},
        level,
    )
    port = await start(WaitingServices(), rules)
    fake = await run(
        port,
        answers={"GET DATA": ["200 result=3"], "GET FULL VARIABLE": counts(0, 1, 1) * 2},
    )
    assert asked == ["complaint"]
    assert (fake.variables["HOTLINE_WIDEN_SECONDARY"], fake.variables["HOTLINE_WIDEN_GENERAL"]) == (
        "3",
        "10",
    )
    assert fake.variables["HOTLINE_WIDEN_PACE"] == "behind"


async def test_without_rules_no_offer_is_made(start: Any) -> None:
    port = await start(WaitingServices(), None)
    fake = await run(port, answers={"GET DATA": ["200 result=0"]})
    assert fake.args_of("GET FULL VARIABLE") == []


async def test_key_1_keeps_the_place_and_reads_the_number_back(start: Any) -> None:
    services = WaitingServices()
    port = await start(services)
    fake = await run(port, script="callback", args=("complaint", "3", "complaint"))
    assert services.requests == [("1700000000.1", CALLER, "complaint", 3, "complaint")]
    assert fake.variables["HOTLINE_CALLBACK"] == "7"
    sounds = played(fake)
    assert sounds[0] == "hotline/callback-confirm" and sounds[-1] == "hotline/callback-keep"
    assert sounds[1:-1] == [f"hotline/digit-{d}" for d in CALLER]


async def test_key_1_from_the_offer_takes_the_next_place_in_line(start: Any) -> None:
    services = WaitingServices()
    port = await start(services)
    await run(
        port,
        script="callback",
        args=("general", "", ""),
        answers={"GET FULL VARIABLE": counts(4, 1, 0)},
    )
    assert services.requests[0][3] == 5


async def test_no_number_to_ring_back_stays_in_the_queue(start: Any) -> None:
    services = WaitingServices()
    port = await start(services)
    fake = await run(port, script="callback", args=("general", "2", ""), callerid="anonymous")
    assert services.requests == []
    assert played(fake) == ["hotline/callback-no-number"]
    assert "HOTLINE_CALLBACK" not in fake.variables


async def test_callback_not_stored_stays_in_the_queue(start: Any) -> None:
    port = await start(WaitingServices(callback_id=None))
    fake = await run(port, script="callback", args=("general", "2", ""))
    assert "HOTLINE_CALLBACK" not in fake.variables
    assert played(fake) == ["hotline/callback-no-number"]


async def test_message_becomes_an_order_and_its_number_is_read(start: Any) -> None:
    services = WaitingServices()
    port = await start(services)
    path = "/var/spool/asterisk/monitor/hotline/messages/2026/11/24/1700000000.1.wav"
    fake = await run(port, script="message", args=(path, "complaint"))
    assert services.messages == [("1700000000.1", CALLER, path, "complaint")]
    assert fake.variables["HOTLINE_MESSAGE_ORDER"] == "20261124-000042"
    sounds = played(fake)
    assert sounds[0] == "hotline/message-saved" and sounds[-1] == "hotline/message-bye"
    assert sounds[1:-1] == [f"hotline/digit-{d}" for d in "20261124000042"]


async def test_message_not_saved_says_so(start: Any) -> None:
    port = await start(WaitingServices(order=None))
    fake = await run(port, script="message", args=("/nowhere.wav", ""))
    assert played(fake) == ["hotline/message-failed"]
    assert "HOTLINE_MESSAGE_ORDER" not in fake.variables


# The database side ----------------------------------------------------------------
@pytest.fixture
def engine(tmp_path: Any) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    yield make_engine(url)


def test_one_callback_per_call(engine: Engine) -> None:
    with Session(engine) as s:
        a = callbacks.request(
            s, linkedid="L1", number=CALLER, queue="general", position=2, request_type="", now=NOW
        )
        s.commit()
        b = callbacks.request(
            s, linkedid="L1", number=CALLER, queue="general", position=1, request_type="", now=NOW
        )
        assert a.id == b.id and b.position == 2
        assert [c.id for c in callbacks.due(s, NOW)] == [a.id]


def test_a_failed_attempt_retries_at_the_front_then_fails_for_good(engine: Engine) -> None:
    rules = CallbackSettings(max_attempts=2, retry_after_seconds=60)
    with Session(engine) as s:
        cb = callbacks.request(
            s, linkedid="L2", number=CALLER, queue="help", position=4, request_type="", now=NOW
        )
        callbacks.placed(cb, NOW)
        callbacks.dialling(cb, "L9", NOW)
        callbacks.dialled(cb, "NOANSWER", NOW, rules)
        assert (cb.status, cb.attempts, cb.position) == (CallbackStatus.REQUESTED, 1, 1)
        assert cb.next_attempt_at == NOW + timedelta(seconds=60)
        s.add(cb)
        s.commit()
        assert callbacks.due(s, NOW) == []
        assert callbacks.due(s, NOW + timedelta(seconds=60)) == [cb]
        callbacks.placed(cb, NOW)
        callbacks.dialled(cb, "BUSY", NOW, rules)
        assert (cb.status, cb.attempts, cb.last_result) == (CallbackStatus.FAILED, 2, "BUSY")


def test_an_answered_callback_is_completed_and_a_lost_place_goes_back_in_line(
    engine: Engine,
) -> None:
    rules = CallbackSettings()
    with Session(engine) as s:
        cb = callbacks.request(
            s, linkedid="L3", number=CALLER, queue="help", position=3, request_type="", now=NOW
        )
        callbacks.placed(cb, NOW)
        callbacks.lost(cb, "placeholder gone", NOW)
        assert (cb.status, cb.position, cb.attempts) == (CallbackStatus.REQUESTED, 3, 0)
        callbacks.placed(cb, NOW)
        callbacks.dialled(cb, "ANSWER", NOW, rules)
        assert cb.status == CallbackStatus.COMPLETED and cb.attempts == 0


def test_a_message_is_one_draft_order_with_its_recording(engine: Engine) -> None:
    path = "/var/spool/asterisk/monitor/hotline/messages/2026/11/24/L4.wav"
    tz = ZoneInfo("Asia/Shanghai")
    with Session(engine) as s:
        order = order_from_message(
            s, linkedid="L4", caller=CALLER, path=path, request_type="complaint", now=NOW, tz=tz
        )
        s.commit()
        again = order_from_message(
            s, linkedid="L4", caller=CALLER, path=path, request_type="complaint", now=NOW, tz=tz
        )
        s.commit()
        assert again.number == order.number
        assert order.status == "draft" and order.request_type == "complaint"
        assert order.caller_number == CALLER and "录音" in order.content
        attachments = list(s.exec(select(WorkOrderAttachment)))
        assert [(a.kind, a.path) for a in attachments] == [("recording", path)]
        rec = s.exec(select(Recording).where(Recording.linkedid == message_key("L4"))).one()
        assert rec.path == path and rec.work_order_number == order.number
        assert rec.status == "pending"
        assert len(list(s.exec(select(WorkOrder)))) == 1


def test_a_message_without_a_request_type_is_a_consultation(engine: Engine) -> None:
    with Session(engine) as s:
        order = order_from_message(
            s,
            linkedid="L5",
            caller=CALLER,
            path="/m/L5.wav",
            request_type="",
            now=NOW,
            tz=ZoneInfo("Asia/Shanghai"),
        )
        assert order.request_type == "consultation"
