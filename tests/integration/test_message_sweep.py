"""A message left while the FastAGI server is down becomes its work order when the server
is back (agi/message_sweep.py), through the real Asterisk, bridge and recordings worker.

With the FastAGI server stopped the IVR falls back to the general queue; the caller presses
2, speaks and hangs up: the dialplan records the message, its `message` route cannot be
reached, and no order is made. The bridge stores the call. The FastAGI server then starts
and its sweep makes the draft order from the call's record.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.kernel.db import make_engine
from hotline.recordings.models import Recording, message_key
from hotline.workorders.models import WorkOrder, WorkOrderAttachment
from tests.helpers.ivr_calls import walk
from tests.helpers.session_hotline import Hotline
from tests.helpers.waiting import until

MESSAGES = "var/spool/asterisk/monitor/hotline/messages"


@pytest.fixture(scope="module")
def db(hotline: Hotline) -> Engine:
    return make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")


@pytest.fixture
def agi_down(hotline: Hotline) -> Iterator[None]:
    hotline.stop_agi()
    try:
        yield
    finally:
        if hotline.agi is None:
            hotline.start_agi()


def test_a_message_left_while_the_agi_was_down_becomes_an_order_when_it_is_back(
    hotline: Hotline, agi_down: None, no_agents: None, db: Engine, tmp_path: Path
) -> None:
    number = "13900000811"
    # in the general queue at once (the IVR is down); key 2, then the citizen speaks and
    # hangs up, the message kept
    result = walk(tmp_path, number, [(3000, "2")], talk_ms=12_000)
    assert result.ok, result.stderr
    record = until("the call's record", lambda: _record_of(db, number), timeout=60)
    [wav] = (hotline.root / MESSAGES).glob(f"*/*/*/{record.linkedid}.wav")
    assert _order_of(db, number) is None  # the dialplan could not reach the message route
    # as if the server had stayed down a while: the sweep leaves a message alone for its
    # first minute (the call's own route may still be making its order)
    old = time.time() - 120
    os.utime(wav, (old, old))

    hotline.start_agi()
    order = until("the swept order", lambda: _order_of(db, number), timeout=60)
    assert order.linkedid == record.linkedid and order.status == "draft"
    assert order.request_type == "consultation"  # the IVR chose none
    path = "/" + str(wav.relative_to(hotline.root))
    with Session(db) as s:
        attached = s.exec(
            select(WorkOrderAttachment).where(WorkOrderAttachment.order_id == order.id)
        ).one()
        assert (attached.kind, attached.path) == ("recording", path)
    archived = until(
        "the message archived",
        lambda: _archived(db, message_key(record.linkedid)),
        timeout=60,
    )
    assert archived.work_order_number == order.number and archived.sha256


def _record_of(db: Engine, number: str) -> CallRecord | None:
    with Session(db) as s:
        return s.exec(select(CallRecord).where(CallRecord.caller_number == number)).first()


def _order_of(db: Engine, number: str) -> WorkOrder | None:
    with Session(db) as s:
        return s.exec(select(WorkOrder).where(WorkOrder.caller_number == number)).first()


def _archived(db: Engine, key: str) -> Recording | None:
    with Session(db) as s:
        rec = s.exec(select(Recording).where(Recording.linkedid == key)).first()
        return rec if rec is not None and rec.status == "archived" else None
