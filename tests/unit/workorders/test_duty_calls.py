"""Duty calls about emergency (突发) orders (art. 25.2, 26.2.7): the escalation plan,
the lateness flag, the duty-call rows in a real (SQLite) database, and the FastAGI
route `duty` through the real server and a fake Asterisk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from hotline.agi.duty import DutyBook
from hotline.agi.menu import DEFAULT_MENU_FILE
from hotline.agi.services import NoServices
from hotline.agi.settings import AgiSettings
from hotline.agi.tree import load_ivr
from hotline.agi.worker import FastAGIServer, build_routes
from hotline.workorders import duty_calls
from hotline.workorders.duty_calls import KeyResult
from hotline.workorders.duty_plan import Role, Step, dialable, escalation_plan, minutes_late
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import DutyStatus, Outcome, WorkOrder, WorkOrderStatus
from hotline.workorders.service import WorkOrderService
from hotline.workorders.settings import DutyCallSettings
from hotline.workorders.units import find_unit, set_phones
from tests.helpers.fake_asterisk import QUEUES, FakeAsterisk
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")
RULES = DutyCallSettings(
    duty_attempts=2, liaison_attempts=1, supervisor_attempts=1, supervisors=["13900001111"]
)


# The plan ------------------------------------------------------------------------
def test_the_plan_rings_duty_then_liaison_then_each_supervisor() -> None:
    rules = RULES.model_copy(update={"supervisors": ["139-0000-1111", "13900002222"]})
    assert escalation_plan("0771-2801234", "13700000001", rules) == [
        Step(Role.DUTY, "07712801234", 1),
        Step(Role.DUTY, "07712801234", 2),
        Step(Role.LIAISON, "13700000001", 1),
        Step(Role.SUPERVISOR, "13900001111", 1),
        Step(Role.SUPERVISOR, "13900002222", 1),
    ]


def test_missing_undiallable_and_repeated_numbers_are_left_out() -> None:
    plan = escalation_plan("", "值班室", RULES)
    assert [s.role for s in plan] == [Role.SUPERVISOR]
    # the liaison is also the duty phone: called as the duty phone only
    plan = escalation_plan("13700000001", "137 0000 0001", RULES)
    assert [(s.role, s.try_no) for s in plan] == [
        (Role.DUTY, 1),
        (Role.DUTY, 2),
        (Role.SUPERVISOR, 1),
    ]
    assert escalation_plan("", "", RULES.model_copy(update={"supervisors": []})) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0771-2801234", "07712801234"), ("+86 137 0000 0001", "+8613700000001"), ("12", None),
     ("0771-110 转 2", None), ("", None)],
)  # fmt: skip
def test_dialable(raw: str, expected: str | None) -> None:
    assert dialable(raw) == expected


DISPATCHED = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
DUE = DISPATCHED + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("signed", "late"),
    [(None, None), (DISPATCHED + timedelta(minutes=5), 0), (DUE, 0),
     (DUE + timedelta(seconds=1), 1), (DUE + timedelta(minutes=12, seconds=30), 13)],
    ids=["unsigned", "5-minutes", "at-the-limit", "one-second-over", "12.5-minutes-over"],
)  # fmt: skip
def test_minutes_late_past_the_30_minute_limit(signed: datetime | None, late: int | None) -> None:
    assert minutes_late(DUE, signed) == late


# The rows ------------------------------------------------------------------------
@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DISPATCHED)


@pytest.fixture
def svc(tmp_path: Path, clock: FixedClock) -> Iterator[WorkOrderService]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        sample_units(s)  # ga: duty phone 0771-110, sms (the liaison's) 13700000001
        set_phones(s, "ga", duty_phone="0771-2801234")
        yield make_service(s, clock, tmp_path / "sms.jsonl")
    engine.dispose()


def dispatched(svc: WorkOrderService, emergency: bool = True) -> WorkOrder:
    order = svc.create(request_type="help", emergency=emergency, content="燃气泄漏")
    svc.dispatch(order.number, "1002", "ga")
    svc.session.flush()
    return order


def test_an_emergency_dispatch_is_picked_up_once(svc: WorkOrderService, clock: FixedClock) -> None:
    order = dispatched(svc)
    dispatched(svc, emergency=False)
    [call] = duty_calls.pick_up(svc.session, clock(), RULES)
    assert (call.order_id, call.status, call.sign_due_at) == (
        order.id,
        DutyStatus.WAITING,
        order.sign_due_at,
    )
    assert duty_calls.pick_up(svc.session, clock(), RULES) == []


def test_every_attempt_is_a_row_and_the_plan_ends_unreached(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    dispatched(svc)
    [call] = duty_calls.pick_up(svc.session, clock(), RULES)
    rung = []
    while (p := duty_calls.next_step(svc.session, call, clock(), RULES)) is not None:
        assert call.status == DutyStatus.RINGING
        rung.append((p.step.role, p.step.number, p.step.try_no))
        duty_calls.ended(svc.session, p.attempt_id, Outcome.NO_ANSWER, clock(), RULES)
        assert call.status == DutyStatus.WAITING
        assert call.next_attempt_at == clock() + timedelta(seconds=RULES.retry_after_seconds)
        clock.advance(seconds=RULES.retry_after_seconds)
    assert rung == [
        (Role.DUTY, "07712801234", 1),
        (Role.DUTY, "07712801234", 2),
        (Role.LIAISON, "13700000001", 1),  # no liaison phone: the SMS number (the liaison's)
        (Role.SUPERVISOR, "13900001111", 1),
    ]
    assert call.status == DutyStatus.UNREACHED
    outcomes = [(a.role, a.outcome) for a in duty_calls.attempts(svc.session, call)]
    assert outcomes == [
        ("duty", "no_answer"),
        ("duty", "no_answer"),
        ("liaison", "no_answer"),
        ("supervisor", "no_answer"),
    ]


def test_key_1_signs_the_order_as_the_phone_that_pressed_it(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    order = dispatched(svc)
    [call] = duty_calls.pick_up(svc.session, clock(), RULES)
    p = duty_calls.next_step(svc.session, call, clock(), RULES)
    assert p is not None
    clock.advance(minutes=2)
    result = duty_calls.press_one(svc.session, svc, p.attempt_id, clock())
    assert result == KeyResult(Outcome.SIGNED, order.number, 0)
    assert (order.status, order.signed_at) == (WorkOrderStatus.SIGNED, clock())
    assert svc.events(order)[-1].actor == "duty 077******34"
    assert (call.status, call.signed_by, call.minutes_late) == ("signed", "duty 077******34", 0)
    # the hang-up report that follows changes nothing
    assert duty_calls.ended(svc.session, p.attempt_id, Outcome.FAILED, clock(), RULES) is None
    # a second press (the same call, or a later one) keeps it signed
    assert duty_calls.press_one(svc.session, svc, p.attempt_id, clock()).outcome is Outcome.SIGNED


def test_signing_after_30_minutes_is_flagged_late(svc: WorkOrderService, clock: FixedClock) -> None:
    order = dispatched(svc)
    [call] = duty_calls.pick_up(svc.session, clock(), RULES)
    p = duty_calls.next_step(svc.session, call, clock(), RULES)
    assert p is not None
    clock.advance(minutes=29)
    assert duty_calls.overdue_unsigned(svc.session, clock()) == []
    clock.advance(minutes=2)
    assert duty_calls.overdue_unsigned(svc.session, clock()) == [call]
    result = duty_calls.press_one(svc.session, svc, p.attempt_id, clock())
    assert result.minutes_late == call.minutes_late == 1
    assert svc.events(order)[-1].reason.startswith("late: sign due")


def test_a_supervisor_acknowledges_but_does_not_sign(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    order = dispatched(svc)
    set_phones(svc.session, "ga", duty_phone="", sms_number="")
    [call] = duty_calls.pick_up(svc.session, clock(), RULES)
    p = duty_calls.next_step(svc.session, call, clock(), RULES)
    assert p is not None and p.step.role is Role.SUPERVISOR
    result = duty_calls.press_one(svc.session, svc, p.attempt_id, clock())
    assert result.outcome is Outcome.ACKNOWLEDGED
    assert order.status == WorkOrderStatus.DISPATCHED
    assert call.status == DutyStatus.ACKNOWLEDGED


def test_signed_in_the_system_or_dispatched_again_stops_the_calls(
    svc: WorkOrderService, clock: FixedClock
) -> None:
    first = dispatched(svc)
    second = dispatched(svc)
    one, two = duty_calls.pick_up(svc.session, clock(), RULES)
    clock.advance(minutes=40)
    svc.sign(first.number, "ga-staff")
    assert not duty_calls.follow_order(svc.session, one, clock())
    assert (one.status, one.signed_by, one.minutes_late) == ("signed", "in the system", 10)
    svc.session.flush()
    assert duty_calls.listing(svc.session, late=True) == [one]

    svc.sign(second.number, "ga-staff")
    svc.return_order(second.number, "ga-staff", "不属本单位职责")
    svc.dispatch(second.number, "1002", "ga")
    assert not duty_calls.follow_order(svc.session, two, clock())
    assert two.status == DutyStatus.STOPPED
    [new] = duty_calls.pick_up(svc.session, clock(), RULES)  # the new dispatch is called
    assert new.dispatched_at == clock()


def test_a_unit_phone_must_be_diallable(svc: WorkOrderService) -> None:
    with pytest.raises(WorkOrderError, match="not a phone number"):
        set_phones(svc.session, "ga", liaison_phone="请找办公室")
    set_phones(svc.session, "ga", liaison_phone="0771-2809999")
    assert find_unit(svc.session, "ga").liaison_phone == "0771-2809999"


# The FastAGI route ------------------------------------------------------------------
class Book:
    def __init__(self, result: KeyResult | None) -> None:
        self.result = result
        self.pressed: list[int] = []

    async def press_one(self, attempt_id: int) -> KeyResult | None:
        self.pressed.append(attempt_id)
        return self.result


@pytest.fixture
async def duty_port() -> AsyncIterator[tuple[Book, int]]:
    book = Book(KeyResult(Outcome.SIGNED, "20261124-000001", 0))
    server = await _server(book)
    yield book, server.bound_port
    await server.close()


async def _server(book: DutyBook) -> FastAGIServer:
    config = load_ivr(DEFAULT_MENU_FILE, QUEUES)
    settings = AgiSettings().model_copy(update={"port": 0, "call_timeout_seconds": 2.0})
    rules = DutyCallSettings(key_rounds=2, key_wait_seconds=1)
    server = FastAGIServer(settings, build_routes(config, NoServices(), None, book, rules))
    await server.start()
    return server


async def duty_call(port: int, role: str, **answers: list[str]) -> FakeAsterisk:
    fake = FakeAsterisk(
        port,
        script="duty",
        args=("17", "20261124000001", role),
        answers={k.replace("_", " "): v for k, v in answers.items()},
    )
    return await asyncio.wait_for(fake.run(), timeout=3)


def played(fake: FakeAsterisk) -> list[str]:
    return [a[0] for a in fake.args_of("STREAM FILE")]


MESSAGE = ["hotline/duty-intro", "hotline/duty-order"] + [
    f"hotline/digit-{d}" for d in "20261124000001"
]


async def test_key_1_during_the_message_signs_at_once(duty_port: tuple[Book, int]) -> None:
    book, port = duty_port
    # the third fragment (the order number's first digit) is cut short by key 1 (ASCII 49)
    fake = await duty_call(port, "duty", STREAM_FILE=["200 result=0"] * 2 + ["200 result=49"])
    assert book.pressed == [17]
    assert played(fake) == [*MESSAGE[:3], "hotline/duty-signed"]
    assert all(a[1] == "1" for a in fake.args_of("STREAM FILE")[:3])  # only 1 interrupts
    assert fake.variables["HOTLINE_DUTY_RESULT"] == "signed"


async def test_no_key_says_the_message_again_then_gives_up(duty_port: tuple[Book, int]) -> None:
    book, port = duty_port
    fake = await duty_call(port, "liaison", WAIT=["200 result=0", "200 result=0"])
    assert book.pressed == []
    assert played(fake) == [*MESSAGE, "hotline/duty-press-1"] * 2 + ["hotline/duty-bye"]
    assert fake.variables["HOTLINE_DUTY_RESULT"] == "no_key"


async def test_a_supervisor_hears_their_own_message() -> None:
    book = Book(KeyResult(Outcome.ACKNOWLEDGED, "20261124-000001", None))
    server = await _server(book)
    try:
        fake = await duty_call(server.bound_port, "supervisor", WAIT=["200 result=49"])
    finally:
        await server.close()
    assert played(fake)[0] == "hotline/duty-supervisor-intro"
    assert played(fake)[-2:] == ["hotline/duty-supervisor-press-1", "hotline/duty-acknowledged"]
    assert fake.variables["HOTLINE_DUTY_RESULT"] == "acknowledged"


async def test_a_key_that_could_not_be_stored_is_said_so() -> None:
    server = await _server(Book(None))
    try:
        fake = await duty_call(server.bound_port, "duty", WAIT=["200 result=49"])
    finally:
        await server.close()
    assert played(fake)[-1] == "hotline/duty-sign-failed"
    assert fake.variables["HOTLINE_DUTY_RESULT"] == "sign_failed"
