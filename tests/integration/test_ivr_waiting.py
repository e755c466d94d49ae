"""Waiting for an agent, through the real Asterisk: Mandarin position announcements,
key 1 (a callback that keeps the caller's place, retried and reported when nobody
answers) and key 2 (a message that becomes a work order with its recording).

Nobody is logged in while the callers wait; the test then logs agent 1002 in. With the
tone prompts a caller who pressed 0 is in the queue about 5 s after the answer (the
offer of a callback comes first and waits 3 s for a key): keys 1 and 2 come after that.
The citizen's phone for callbacks is a SIPp UAS on 5092 (tests/integration/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.acd.models import Callback
from hotline.kernel.db import make_engine
from hotline.recordings.models import Recording
from hotline.workorders.models import WorkOrder, WorkOrderAttachment
from tests.helpers.alarms import AlarmListener
from tests.helpers.ivr_calls import Phone, walk
from tests.helpers.session_hotline import Hotline, heard_by
from tests.helpers.sipp import CallInProgress, CallResult
from tests.helpers.waiting import until

CITIZEN_PHONE = 5092


@pytest.fixture(scope="module")
def db(hotline: Hotline) -> Engine:
    return make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")


def callback_of(db: Engine, number: str, *statuses: str) -> Callable[[], Callback | None]:
    def check() -> Callback | None:
        with Session(db) as s:
            cb = s.exec(select(Callback).where(Callback.caller_number == number)).first()
            return cb if cb is not None and cb.status in statuses else None

    return check


def queue_callers(hotline: Hotline, queue: str = "hotline-general") -> list[str]:
    out = hotline.asterisk(f"queue show {queue}")
    callers = out.split("Callers:", 1)[1] if "Callers:" in out else ""
    return re.findall(r"\d+\. (\S+)", callers)


def wait_in_line(
    tmp_path: Path, number: str, keys: list[tuple[int, str]], port: int, **kw: Any
) -> CallInProgress:
    return CallInProgress(
        lambda: walk(tmp_path, number, keys, port=port, media_port=port + 11000, **kw)
    )


def test_a_callback_keeps_the_place_and_connects_the_citizen(
    hotline: Hotline, tone_ivr: Path, no_agents: None, db: Engine, verbose_log: Path, tmp_path: Path
) -> None:
    first, second = "13900000801", "13900000802"
    citizen = Phone(tmp_path, CITIZEN_PHONE, 17400, "agent_hangs_up.xml", talk_ms="3000").start()
    try:
        # key 0 (an agent), then key 1 while waiting alone in the general queue
        asked = wait_in_line(
            tmp_path, first, [(1500, "0"), (6500, "1")], 5061, hotline_hangs_up=True
        )
        placed = until("the kept place in line", callback_of(db, first, "waiting"))
        result: CallResult = asked.wait(60)
        assert result.ok, result.stderr
        assert placed.queue == "general" and placed.position == 1
        # a second caller arrives after the first one hung up: behind the kept place
        later = wait_in_line(tmp_path, second, [(1500, "0")], 5063, talk_ms=20_000)
        until("both in line", lambda: len(queue_callers(hotline)) == 2, timeout=30)
        hotline.cli("agent", "login", "1002")
        until("the callback dialling", callback_of(db, first, "dialling", "completed"))
        waiting = queue_callers(hotline)
        assert len(waiting) == 1 and waiting[0].startswith("PJSIP/carrier"), waiting
        done = until("the callback completed", callback_of(db, first, "completed"))
        assert (done.agent, done.attempts, done.last_result) == ("1002", 0, "ANSWER")
        assert f"INVITE sip:{first}@127.0.0.1:{CITIZEN_PHONE}" in citizen.received()
        assert 'From: "12345" <sip:12345@' in citizen.received()
        # then the agent takes the second caller
        assert later.wait(90).ok
        assert hotline.wait_call(second)["agent"] == "1002"
    finally:
        citizen.stop()
    # the second caller heard "您现在排在第 <n> 位" in Mandarin (n as it was when said)
    heard = heard_by(verbose_log, "hotline/queue-position")
    assert re.fullmatch(r"digits/\d+", heard[1]), heard
    assert heard[2] == "hotline/queue-position-after", heard


def test_a_callback_nobody_answers_is_retried_then_reported(
    hotline: Hotline, tone_ivr: Path, no_agents: None, db: Engine, tmp_path: Path
) -> None:
    number = "13900000803"
    citizen = Phone(tmp_path, CITIZEN_PHONE, 17400, "busy.xml").start()
    try:
        with AlarmListener() as alarms:
            asked = wait_in_line(
                tmp_path, number, [(1500, "0"), (6500, "1")], 5061, hotline_hangs_up=True
            )
            until("the kept place in line", callback_of(db, number, "waiting"))
            assert asked.wait(60).ok
            hotline.cli("agent", "login", "1002")
            failed = until("the callback failed", callback_of(db, number, "failed"), timeout=90)
            assert (failed.attempts, failed.last_result) == (2, "BUSY")
            alarm = alarms.wait_for("callback_failed", timeout=30, linkedid=failed.linkedid)
            assert number not in alarm["message"] and "failed 2 times" in alarm["message"]
    finally:
        citizen.stop()
    assert citizen.received().count(f"INVITE sip:{number}@") == 2
    listed = hotline.cli("callbacks", "--status", "failed")
    assert re.search(rf"^\s*{failed.id} .* failed\s+attempts 2 BUSY", listed, re.M), listed


def test_a_message_becomes_a_draft_order_with_its_recording(
    hotline: Hotline, tone_ivr: Path, no_agents: None, db: Engine, tmp_path: Path
) -> None:
    number = "13900000804"
    # key 0, key 2 while waiting, speak, # to end; the hotline reads the order number, hangs up
    result = walk(tmp_path, number, [(1500, "0"), (6500, "2"), (10000, "#")], hotline_hangs_up=True)
    assert result.ok, result.stderr
    with Session(db) as s:
        order = s.exec(select(WorkOrder).where(WorkOrder.caller_number == number)).one()
        assert order.status == "draft" and order.request_type == "consultation"
        attached = s.exec(
            select(WorkOrderAttachment).where(WorkOrderAttachment.order_id == order.id)
        ).one()
        assert attached.kind == "recording"
        assert (hotline.root / attached.path.lstrip("/")).is_file()
    archived = until(
        "the message archived",
        lambda: _recording(db, f"{order.linkedid}-message", "archived"),
        timeout=60,
    )
    assert archived.work_order_number == order.number and archived.sha256


def _recording(db: Engine, key: str, status: str) -> Recording | None:
    with Session(db) as s:
        rec = s.exec(select(Recording).where(Recording.linkedid == key)).first()
        return rec if rec is not None and rec.status == status else None


def test_hanging_up_while_speaking_still_leaves_the_message(
    hotline: Hotline, tone_ivr: Path, no_agents: None, db: Engine, tmp_path: Path
) -> None:
    number = "13900000805"
    # key 0, key 2 while waiting, then the citizen speaks and hangs up (no #)
    result = walk(tmp_path, number, [(1500, "0"), (6500, "2")], talk_ms=9000)
    assert result.ok, result.stderr
    order = until("the order of the message", lambda: _order_of(db, number), timeout=30)
    with Session(db) as s:
        attached = s.exec(
            select(WorkOrderAttachment).where(WorkOrderAttachment.order_id == order.id)
        ).one()
    assert attached.kind == "recording" and (hotline.root / attached.path.lstrip("/")).is_file()


def _order_of(db: Engine, number: str) -> WorkOrder | None:
    with Session(db) as s:
        return s.exec(select(WorkOrder).where(WorkOrder.caller_number == number)).first()
