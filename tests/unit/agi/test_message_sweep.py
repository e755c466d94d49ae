"""The message sweep (agi/message_sweep.py) against a real (SQLite) database and message
files laid out as the dialplan records them inside an Asterisk root."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from hotline.agi import messages
from hotline.agi.message_sweep import ANSWERED_GRACE, MessageSweep, sweep_messages
from hotline.agi.messages import order_from_message
from hotline.agi.settings import AgiSettings
from hotline.agi.worker import FastAGIServer
from hotline.calls.models import CallRecord, Disposition
from hotline.recordings.models import Recording, message_key
from hotline.workorders.models import WorkOrder, WorkOrderAttachment
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine

TZ = ZoneInfo("Asia/Shanghai")
MESSAGES = PurePosixPath("/var/spool/asterisk/monitor/hotline/messages")
CALLER = "13800138000"
# 2026-11-24 10:00 in Shanghai; the message's folder is that local date
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LEFT = NOW - timedelta(minutes=5)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return migrated_engine(tmp_path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "asterisk-root"


def leave(root: Path, linkedid: str, at: datetime = LEFT, day: str = "2026/11/24") -> str:
    """A message file as Record() leaves it; returns Asterisk's path of it."""
    path = f"{MESSAGES}/{day}/{linkedid}.wav"
    wav = root / path.lstrip("/")
    wav.parent.mkdir(parents=True, exist_ok=True)
    wav.write_bytes(b"RIFF" + bytes(40) + bytes(800))
    os.utime(wav, (at.timestamp(), at.timestamp()))
    return path


def record(
    engine: Engine,
    linkedid: str,
    request_type: str = "complaint",
    answered: bool = False,
    ended: datetime = LEFT + timedelta(seconds=10),
) -> None:
    with Session(engine) as s:
        s.add(
            CallRecord(
                linkedid=linkedid,
                tenant="nn",
                caller_number=CALLER,
                started_at=LEFT - timedelta(minutes=2),
                ended_at=ended,
                answered_at=ended - timedelta(minutes=1) if answered else None,
                agent="1002" if answered else "",
                disposition=(
                    Disposition.ANSWERED if answered else Disposition.ABANDONED_IN_QUEUE
                ).value,
                request_type=request_type,
            )
        )
        s.commit()


def sweep(engine: Engine, root: Path, now: datetime = NOW) -> list[str]:
    report = sweep_messages(engine, root, MESSAGES, TZ, now)
    assert report.failed == []
    return report.made


def orders(engine: Engine) -> list[WorkOrder]:
    with Session(engine) as s:
        return list(s.exec(select(WorkOrder)))


def attachments(engine: Engine) -> list[tuple[int, str]]:
    with Session(engine) as s:
        return [(a.order_id, a.path) for a in s.exec(select(WorkOrderAttachment))]


def test_a_message_with_a_call_record_becomes_one_draft_order(
    engine: Engine, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = leave(root, "1700000000.1")
    record(engine, "1700000000.1", "complaint")
    with caplog.at_level(logging.INFO, logger="hotline.agi.message_sweep"):
        made = sweep(engine, root)
    [order] = orders(engine)
    assert made == [order.number] and order.number.startswith("20261124-")
    assert (order.status, order.request_type) == ("draft", "complaint")
    assert order.caller_number == CALLER and order.linkedid == "1700000000.1"
    assert order.accepted_at == LEFT  # its deadlines run from when the citizen left it
    assert attachments(engine) == [(order.id, path)]
    with Session(engine) as s:
        rec = s.exec(select(Recording).where(Recording.linkedid == message_key("1700000000.1")))
        assert [(r.path, r.work_order_number) for r in rec] == [(path, order.number)]
    assert "138******00" in caplog.text and CALLER not in caplog.text


def test_sweeping_again_makes_no_second_order(engine: Engine, root: Path) -> None:
    leave(root, "L1")
    record(engine, "L1")
    first = sweep(engine, root)
    assert sweep(engine, root, NOW + timedelta(minutes=1)) == []
    assert [o.number for o in orders(engine)] == first and len(attachments(engine)) == 1


def test_a_message_without_a_call_record_waits_for_it(engine: Engine, root: Path) -> None:
    leave(root, "L2")
    report = sweep_messages(engine, root, MESSAGES, TZ, NOW)
    assert report.made == [] and [m.linkedid for m in report.waiting] == ["L2"]
    assert orders(engine) == []
    record(engine, "L2", request_type="")  # the IVR was down: no request type
    [number] = sweep(engine, root, NOW + timedelta(minutes=1))
    [order] = orders(engine)
    assert order.number == number and order.request_type == "consultation"


def test_a_message_ordered_during_the_call_is_left_alone(engine: Engine, root: Path) -> None:
    path = leave(root, "L3")
    record(engine, "L3", "suggestion")
    with Session(engine) as s:
        during = order_from_message(
            s, linkedid="L3", caller=CALLER, path=path, request_type="help", now=LEFT, tz=TZ
        )
        s.commit()
        number, content = during.number, during.content
    assert sweep(engine, root) == []
    [order] = orders(engine)
    assert (order.number, order.request_type, order.content) == (number, "help", content)
    assert len(attachments(engine)) == 1


def test_a_message_still_being_left_is_not_touched(engine: Engine, root: Path) -> None:
    leave(root, "L4", at=NOW - timedelta(seconds=20))
    record(engine, "L4")
    report = sweep_messages(engine, root, MESSAGES, TZ, NOW)
    assert report.made == [] and report.waiting == [] and orders(engine) == []


def test_a_message_of_yesterday_local_date_is_found(engine: Engine, root: Path) -> None:
    leave(root, "L5", day="2026/11/23")
    record(engine, "L5")
    assert len(sweep(engine, root)) == 1


def test_an_answered_call_joins_the_order_its_agent_filed(
    tmp_path: Path, engine: Engine, root: Path
) -> None:
    """Sent back to the queue when the order failed, the caller reached an agent who filed
    the call's order: the message is attached to it, once the agent's wrap-up is over."""
    path = leave(root, "L6")
    ended = NOW - timedelta(minutes=2)
    record(engine, "L6", request_type="", answered=True, ended=ended)
    assert sweep(engine, root) == []  # the agent may still be filing it
    with Session(engine) as s:
        filed = make_service(s, FixedClock(ended), tmp_path / "sms").create(
            request_type="complaint", content="路灯不亮", caller_number=CALLER, linkedid="L6"
        )
        s.commit()
        number = filed.number
    assert sweep(engine, root, ended + ANSWERED_GRACE) == [number]
    [order] = orders(engine)
    assert order.content == "路灯不亮" and attachments(engine) == [(order.id, path)]


def test_an_answered_call_without_an_order_gets_one_after_the_grace(
    engine: Engine, root: Path
) -> None:
    leave(root, "L7")
    record(engine, "L7", answered=True, ended=NOW)
    assert sweep(engine, root, NOW + ANSWERED_GRACE - timedelta(seconds=1)) == []
    assert len(sweep(engine, root, NOW + ANSWERED_GRACE)) == 1
    assert len(orders(engine)) == 1


def test_of_two_makers_at_once_the_second_takes_the_first_ones_order(
    engine: Engine, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second looked before the first committed; the message's unique recordings row
    stops it in the database, and it answers with the first one's order."""
    path = leave(root, "L8")
    with Session(engine) as s:
        first = order_from_message(
            s, linkedid="L8", caller=CALLER, path=path, request_type="", now=LEFT, tz=TZ
        )
        s.commit()
        number = first.number
    looked = _StaleOnce(messages.ordered_message)
    monkeypatch.setattr(messages, "ordered_message", looked)
    with Session(engine) as s:
        second = order_from_message(
            s, linkedid="L8", caller=CALLER, path=path, request_type="", now=NOW, tz=TZ
        )
        s.commit()
        assert second.number == number
    assert looked.calls == 2  # the stale look, then the look after the refusal
    assert len(orders(engine)) == 1 and len(attachments(engine)) == 1
    with Session(engine) as s:
        assert len(list(s.exec(select(Recording)))) == 1


def test_a_recordings_row_without_its_order_is_reported_not_ordered(
    engine: Engine, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = leave(root, "L11")
    record(engine, "L11")
    with Session(engine) as s:
        s.add(Recording(linkedid=message_key("L11"), path=path, created_at=LEFT))
        s.commit()
    with caplog.at_level(logging.WARNING, logger="hotline.agi.message_sweep"):
        report = sweep_messages(engine, root, MESSAGES, TZ, NOW)
    assert report.failed == ["L11"] and orders(engine) == []
    assert "UNIQUE constraint failed: recording.linkedid" in caplog.text


class _StaleOnce:
    def __init__(self, real: Callable[[Session, str], WorkOrder | None]) -> None:
        self.real = real
        self.calls = 0

    def __call__(self, session: Session, path: str) -> WorkOrder | None:
        self.calls += 1
        return None if self.calls == 1 else self.real(session, path)


async def test_the_database_down_is_logged_and_the_next_sweep_makes_the_order(
    engine: Engine, root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leave(root, "L9")
    record(engine, "L9")
    down = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'h.db'}")
    sweeper = MessageSweep(down, root=root, messages_dir=MESSAGES, tz=TZ)
    with caplog.at_level(logging.WARNING, logger="hotline.agi.message_sweep"):
        assert await sweeper.sweep(NOW) is None
    assert "message sweep failed" in caplog.text
    sweeper.engine = engine
    report = await sweeper.sweep(NOW)
    assert report is not None and len(report.made) == 1
    assert sweeper.status() == {
        "last_sweep": NOW.isoformat(),
        "made": 1,
        "waiting": 0,
        "failed": 0,
    }


async def test_the_fastagi_server_sweeps_at_start_and_stops_with_it(
    engine: Engine, root: Path
) -> None:
    now = datetime.now(UTC)
    day = now.astimezone(TZ).strftime("%Y/%m/%d")
    leave(root, "L10", at=now - timedelta(minutes=2), day=day)
    record(engine, "L10", ended=now - timedelta(minutes=1))
    sweeper = MessageSweep(engine, root=root, messages_dir=MESSAGES, tz=TZ)
    settings = AgiSettings().model_copy(update={"port": 0})
    server = FastAGIServer(settings, {}, sweep=sweeper)
    await server.start()
    try:
        for _ in range(100):
            if orders(engine):
                break
            await asyncio.sleep(0.1)
    finally:
        await server.close()
    assert [o.linkedid for o in orders(engine)] == ["L10"]
    assert "message-sweep" not in {t.get_name() for t in asyncio.all_tasks()}
