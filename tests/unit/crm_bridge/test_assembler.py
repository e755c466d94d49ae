"""Call-record assembly from a real AMI transcript (tests/fixtures/ami_three_calls.txt).

The transcript was recorded with scripts/ami_capture.py from three real calls:
13800138001 pressed 3 and was answered by agent 1001; 13800138002 pressed 1 and
hung up in the queue (no agent logged in); 13800138003 hung up in the menu.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from hotline.calls.models import CallRecord, Disposition
from hotline.crm_bridge.assembler import CallAssembler, FinishedCall
from hotline.crm_bridge.service import store_call
from hotline.recordings.models import Recording
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.models import WorkOrder
from tests.helpers.ami_transcript import load

EVENTS = load("ami_three_calls.txt")


def assemble(events: list[dict[str, str]]) -> dict[str, FinishedCall]:
    asm = CallAssembler()
    done = {}
    for ev in events:
        call = asm.feed(ev)
        if call is not None:
            done[call.caller_number] = call
    assert asm.calls == {}, "every call in the transcript ended"
    return done


def test_answered_call() -> None:
    call = assemble(EVENTS)["13800138001"]
    assert call.disposition is Disposition.ANSWERED
    assert (call.ivr_choice, call.request_type, call.ivr_result) == ("3", "complaint", "chosen")
    assert call.queues == ("complaint",)
    assert call.agent == "1001"
    assert call.answered_at is not None and call.queue_joined_at is not None
    assert call.wait_seconds is not None and 0 <= call.wait_seconds < 1
    assert call.talk_seconds is not None and call.talk_seconds > 0
    assert call.hangup_cause == 16
    assert call.recording.endswith(f"/{call.linkedid}.wav")
    assert "13800138001" not in call.recording
    assert call.started_at < call.ivr_left_at <= call.queue_joined_at < call.ended_at  # type: ignore[operator]


def test_abandoned_in_queue() -> None:
    call = assemble(EVENTS)["13800138002"]
    assert call.disposition is Disposition.ABANDONED_IN_QUEUE
    assert call.request_type == "consultation"
    assert call.queue == "consultation"
    assert call.agent == "" and call.answered_at is None
    assert call.wait_seconds is not None and call.wait_seconds > 1


def test_abandoned_in_ivr() -> None:
    call = assemble(EVENTS)["13800138003"]
    assert call.disposition is Disposition.ABANDONED_IN_IVR
    assert call.queue == "" and call.queue_joined_at is None and call.wait_seconds is None
    assert call.request_type == ""


@pytest.mark.parametrize("seed", range(5))
def test_order_of_events_within_a_call_does_not_matter(seed: int) -> None:
    """Shuffle every event except the last hangup of each call: same records."""
    expected = assemble(EVENTS)
    rng = random.Random(seed)
    by_call: dict[str, list[dict[str, str]]] = {}
    for ev in EVENTS:
        if ev.get("Linkedid"):
            by_call.setdefault(ev["Linkedid"], []).append(ev)
    shuffled: list[dict[str, str]] = []
    for events in by_call.values():
        last_hangup = max(i for i, e in enumerate(events) if e["Event"] == "Hangup")
        body = events[:last_hangup] + events[last_hangup + 1 :]
        rng.shuffle(body)
        shuffled += [*body, events[last_hangup]]
    assert assemble(shuffled) == expected


def test_malformed_events_are_ignored_not_fatal() -> None:
    asm = CallAssembler()
    for junk in (
        {},
        {"Event": "Hangup"},  # no Linkedid
        {"Event": "AgentConnect", "Linkedid": "x.1", "HoldTime": "soon", "Timestamp": "bad"},
        {"Event": "Hangup", "Linkedid": "x.1", "Uniqueid": "x.1", "Cause": "sixteen"},
    ):
        asm.feed(junk)
    # the junk call ends (its caller hung up) without breaking the real calls after it
    assert set(assemble(EVENTS)) == {"13800138001", "13800138002", "13800138003"}


def test_storing_twice_gives_one_record_and_one_order() -> None:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    calls = assemble(EVENTS)
    cal = WorkCalendar()
    tz = ZoneInfo("Asia/Shanghai")
    for _ in range(2):
        with Session(engine) as s:
            for call in calls.values():
                store_call(s, call, tenant="nanning", calendar=cal, tz=tz)
            s.commit()
    with Session(engine) as s:
        assert len(s.exec(select(CallRecord)).all()) == 3
        assert len(s.exec(select(Recording)).all()) == 3
        orders = s.exec(select(WorkOrder)).all()
        assert [o.caller_number for o in orders] == ["13800138001"]  # answered, typed
        order = orders[0]
        assert order.request_type == "complaint" and order.due_working_days == 10
        # answered Tue 2026-11-24 (Shanghai): day 1 is Wed 25 Nov, day 10 is Tue 8 Dec
        assert order.due_date == datetime(2026, 12, 8, tzinfo=UTC).date()
        record = s.exec(select(CallRecord).where(CallRecord.caller_number == "13800138001")).one()
        assert record.started_at.tzinfo is not None


def test_speech_heard_goes_on_the_record() -> None:
    """UserEvent(HotlineSpeech) from agi/speech.py: a keyword spotted stays on the record,
    with what was heard then, even when the caller then speaks a phrase."""
    first = next(e for e in EVENTS if e.get("UserEvent") == "HotlineIVR")
    base = {k: first[k] for k in ("Event", "Uniqueid", "Linkedid", "Channel", "Timestamp")}
    keyword = base | {
        "UserEvent": "HotlineSpeech", "Kind": "keyword", "Text": "着火 了", "Confidence": "0.870",
        "Choice": "", "Line": "119", "Word": "着火",
    }  # fmt: skip
    phrase = base | {
        "UserEvent": "HotlineSpeech", "Kind": "phrase", "Text": "投诉", "Confidence": "0.910",
        "Choice": "3", "Line": "", "Word": "",
    }  # fmt: skip
    at = EVENTS.index(first)
    calls = assemble([*EVENTS[:at], keyword, phrase, *EVENTS[at:]])
    heard = calls["13800138001"].speech
    assert heard is not None and (heard.keyword_line, heard.keyword) == ("119", "着火")
    assert calls["13800138002"].speech is None
    from hotline.crm_bridge.journal import decode, encode

    assert decode(encode(calls["13800138001"])) == calls["13800138001"]  # the durable outbox
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        store_call(s, calls["13800138001"], tenant="nanning", calendar=WorkCalendar(),
                   tz=ZoneInfo("Asia/Shanghai"))  # fmt: skip
        s.commit()
        record = s.exec(select(CallRecord)).one()
        assert (record.speech_keyword_line, record.speech_keyword) == ("119", "着火")
        assert record.speech_text == "着火 了" and record.speech_confidence == 0.87


def test_an_event_after_a_call_ended_does_not_begin_it_again() -> None:
    asm = CallAssembler()
    finished = [call for ev in EVENTS if (call := asm.feed(ev)) is not None]
    assert len(finished) == 3 and asm.calls == {}
    late = next(ev for ev in EVENTS if ev.get("Event") == "AgentComplete")
    assert asm.feed({**late, "Event": "Newstate"}) is None
    assert asm.feed(late) is None
    assert asm.calls == {}, "a late event kept a finished call in memory for ever"
