"""The duty-call service's passes and events on a real (SQLite) database with a fake AMI:
what it originates, how outcomes move the plan on, AMI outages, the overdue alarm."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.config.settings import Settings
from hotline.kernel.alarms import Alarm
from hotline.kernel.settings import ServiceUrl
from hotline.workorders import worker
from hotline.workorders.models import DutyCall, DutyCallAttempt
from hotline.workorders.settings import DutyCallSettings
from hotline.workorders.worker import DutyCallService
from tests.helpers.ports import free_port
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SH = ZoneInfo("Asia/Shanghai")


class Ami:
    def __init__(self) -> None:
        self.logged_in = asyncio.Event()
        self.logged_in.set()
        self.events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.actions: list[dict[str, str]] = []
        self.down = False

    async def action(self, action: dict[str, str], **_: Any) -> dict[str, str]:
        if self.down:
            raise ConnectionError("AMI not connected")
        self.actions.append(action)
        return {"Response": "Success"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=SH))


@pytest.fixture
def engine(tmp_path: Path, clock: FixedClock) -> Iterator[Engine]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        sample_units(s)  # ga: duty phone 0771-110, sms (the liaison's) 13700000001
        svc = make_service(s, clock, tmp_path / "sms.jsonl")
        order = svc.create(request_type="help", emergency=True, content="燃气泄漏")
        svc.dispatch(order.number, "1002", "ga")
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def alarms(monkeypatch: pytest.MonkeyPatch) -> list[Alarm]:
    sent: list[Alarm] = []

    async def publish(_settings: Settings, alarm: Alarm) -> bool:
        sent.append(alarm)
        return True

    monkeypatch.setattr(worker, "publish", publish)
    return sent


def service(tmp_path: Path, engine: Engine, ami: Ami, clock: FixedClock) -> DutyCallService:
    settings = Settings(
        var_dir=tmp_path,
        mqtt=ServiceUrl(port=free_port(), start_if_absent=False),
        duty_calls=DutyCallSettings(duty_attempts=1, liaison_attempts=1, retry_after_seconds=60),
    )
    return DutyCallService(settings, engine, ami, clock)  # type: ignore[arg-type]


def attempts(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(DutyCallAttempt).order_by(DutyCallAttempt.id)).all()  # type: ignore[arg-type]
        return [(a.role, a.number, a.outcome) for a in rows]


async def test_a_pass_rings_the_duty_phone_with_the_orders_digits(
    tmp_path: Path, engine: Engine, clock: FixedClock, alarms: list[Alarm]
) -> None:
    ami = Ami()
    await service(tmp_path, engine, ami, clock).run_once()
    [originate] = ami.actions
    assert originate["Channel"] == "PJSIP/carrier/sip:0771110@127.0.0.1:5090"
    assert (originate["Context"], originate["Exten"]) == ("hotline-duty-call", "s")
    assert originate["Timeout"] == "30000"
    assert originate["CallerID"] == '"12345" <12345>'
    attempt_id = originate["ActionID"].removeprefix("duty-")
    assert originate["Variable"] == (
        f"HOTLINE_DUTY_CALL={attempt_id},HOTLINE_DUTY_ORDER=20261124000001,HOTLINE_DUTY_ROLE=duty"
    )
    assert attempts(engine) == [("duty", "0771110", "")]
    assert alarms == []


async def test_no_answer_then_the_liaison_after_the_retry_delay(
    tmp_path: Path, engine: Engine, clock: FixedClock, alarms: list[Alarm]
) -> None:
    ami = Ami()
    svc = service(tmp_path, engine, ami, clock)
    await svc.run_once()
    action_id = ami.actions[0]["ActionID"]
    await svc.handle({"Event": "OriginateResponse", "ActionID": action_id, "Response": "Failure",
                      "Reason": "3"})  # fmt: skip
    await svc.run_once()
    assert len(ami.actions) == 1  # not before retry_after_seconds
    clock.advance(seconds=60)
    await svc.run_once()
    assert ami.actions[1]["Channel"] == "PJSIP/carrier/sip:13700000001@127.0.0.1:5090"
    liaison_id = ami.actions[1]["ActionID"].removeprefix("duty-")
    # answered, heard the message twice, no key: the hang-up reports it
    await svc.handle({"Event": "UserEvent", "UserEvent": "HotlineDutyCall", "Id": liaison_id,
                      "Result": "no_key"})  # fmt: skip
    assert attempts(engine) == [
        ("duty", "0771110", "no_answer"),
        ("liaison", "13700000001", "no_key"),
    ]
    clock.advance(seconds=60)
    await svc.run_once()  # no supervisors configured: the plan is spent
    [alarm] = alarms
    assert alarm.kind == "duty_call_unreached" and "市公安局 (ga)" in alarm.message
    with Session(engine) as s:
        assert s.exec(select(DutyCall.status)).one() == "unreached"


async def test_ami_down_spends_no_step_of_the_plan(
    tmp_path: Path, engine: Engine, clock: FixedClock, alarms: list[Alarm]
) -> None:
    ami = Ami()
    ami.down = True
    svc = service(tmp_path, engine, ami, clock)
    await svc.run_once()
    assert attempts(engine) == [("duty", "0771110", "failed")]  # recorded, with the reason
    ami.down = False
    await svc.run_once()
    assert ami.actions[0]["Channel"] == "PJSIP/carrier/sip:0771110@127.0.0.1:5090"  # duty again
    assert attempts(engine)[-1] == ("duty", "0771110", "")


async def test_not_signed_within_30_minutes_alarms_once(
    tmp_path: Path, engine: Engine, clock: FixedClock, alarms: list[Alarm]
) -> None:
    ami = Ami()
    ami.logged_in.clear()  # Asterisk away: nobody is rung, the clock still runs
    svc = service(tmp_path, engine, ami, clock)
    await svc.run_once()
    clock.advance(minutes=31)
    await svc.run_once()
    await svc.run_once()
    assert [a.kind for a in alarms] == ["emergency_sign_overdue"]
    assert "20261124-000001" in alarms[0].message and "30 minutes" in alarms[0].message
    assert ami.actions == []
