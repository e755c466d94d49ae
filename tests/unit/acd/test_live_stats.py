"""Live numbers from AMI events: recorded transcripts, overflow, rebuild, bad events."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest

from hotline.acd.live_stats import TOTAL
from tests.helpers.ami_transcript import load
from tests.helpers.queue_events import T0, TZ, abandon, answer, ev, feed, join, leave, stats


def test_recorded_transcript_one_answered_one_abandoned() -> None:
    s = stats()
    events = load("ami_three_calls.txt")
    for e in events:
        s.feed(e)
    now = float(events[-1]["Timestamp"])
    complaint = s.snapshot("complaint", now)
    assert complaint["today"] | {"service_level": None} == {
        "offered": 1,
        "answered": 1,
        "abandoned": 0,
        "left": 0,
        "answered_within": {"15": 1, "20": 1},
        "service_level": None,
        "asa_seconds": 0.0,
        "aht_seconds": 5.0,
    }
    assert complaint["today"]["service_level"] == {"15": 100.0, "20": 100.0}
    consultation = s.snapshot("consultation", now)
    assert consultation["today"]["offered"] == 1
    assert consultation["today"]["abandoned"] == 1
    assert consultation["today"]["service_level"] == {"15": 0.0, "20": 0.0}
    assert consultation["below_target"] == [15, 20]
    total = s.snapshot(TOTAL, now)
    assert (total["today"]["offered"], total["today"]["answered"]) == (2, 1)
    assert total["today"]["abandoned"] == 1
    assert total["today"]["service_level"] == {"15": 50.0, "20": 50.0}
    assert total["waiting"] == 0
    assert s.calls == {}  # every caller channel hung up: nothing kept


def test_waiting_callers_longest_wait_and_masked_numbers() -> None:
    s = stats()
    feed(s, join(T0, "a.1", "general", "13800138001"), join(T0 + 4, "a.2", "general"))
    snap = s.snapshot("general", T0 + 10)
    assert snap["waiting"] == 2
    assert snap["longest_wait_seconds"] == 10
    assert snap["callers"][0] == {
        "caller": "138******01",
        "wait_seconds": 10,
        "position": 1,
        "call": "a.1",  # the call's id, for the emergency button
    }
    assert "13800138001" not in json.dumps(snap)
    # nobody judged yet: a caller within 15 s is not a miss
    assert snap["today"]["service_level"] == {"15": None, "20": None}
    # past 15 s the first caller is already a miss at 15 s, not yet at 20 s
    assert s.snapshot("general", T0 + 16)["today"]["service_level"] == {"15": 0.0, "20": None}


def test_service_level_at_each_threshold_and_averages() -> None:
    s = stats()
    feed(
        s,
        join(T0, "c.1", "help"),
        answer(T0 + 5, "c.1", "help"),  # within 15
        join(T0 + 10, "c.2", "help"),
        answer(T0 + 28, "c.2", "help"),  # 18 s: within 20, not 15
        join(T0 + 20, "c.3", "help"),
        answer(T0 + 50, "c.3", "help"),  # 30 s: late
        join(T0 + 30, "c.4", "help"),
        abandon(T0 + 33, "c.4", "help"),
        ev("AgentComplete", T0 + 65, "c.1", "help", TalkTime="60"),
        ev("AgentComplete", T0 + 148, "c.2", "help", TalkTime="120"),
    )
    today = s.snapshot("help", T0 + 200)["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (4, 3, 1)
    assert today["service_level"] == {"15": 25.0, "20": 50.0}
    assert today["answered_within"] == {"15": 1, "20": 2}
    assert today["asa_seconds"] == round((5 + 18 + 30) / 3, 1)
    assert today["aht_seconds"] == 90.0


def test_overflow_keeps_the_clock_and_counts_the_call_once_in_total() -> None:
    s = stats()
    feed(
        s,
        join(T0, "o.1", "complaint"),
        leave(T0 + 20, "o.1", "complaint"),  # overflow_after_seconds ran out
        join(T0 + 20, "o.1", "general"),
        answer(T0 + 25, "o.1", "general"),
    )
    now = T0 + 30
    complaint = s.snapshot("complaint", now)["today"]
    assert (complaint["offered"], complaint["answered"], complaint["left"]) == (1, 0, 1)
    general = s.snapshot("general", now)["today"]
    assert (general["offered"], general["answered"]) == (1, 1)
    assert general["asa_seconds"] == 25.0  # from the first queue join, not the second
    assert general["service_level"] == {"15": 0.0, "20": 0.0}
    total = s.snapshot(TOTAL, now)["today"]
    assert (total["offered"], total["answered"], total["left"]) == (1, 1, 0)


def test_last_window_slides_and_today_resets_at_local_midnight() -> None:
    s = stats()
    feed(s, join(T0, "w.1", "report"), answer(T0 + 2, "w.1", "report"))
    later = T0 + 16 * 60
    feed(s, join(later, "w.2", "report"), abandon(later + 3, "w.2", "report"))
    snap = s.snapshot("report", later + 10)
    assert snap["today"]["offered"] == 2
    assert (snap["window"]["offered"], snap["window"]["abandoned"]) == (1, 1)
    assert snap["window"]["answered"] == 0
    midnight = datetime(2026, 11, 25, 0, 0, 1, tzinfo=TZ).timestamp()
    snap = s.snapshot("report", midnight)
    assert snap["day"] == "2026-11-25"
    assert snap["today"]["offered"] == 0


def test_malformed_events_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    s = stats()
    feed(s, join(T0, "m.1", "general"))
    before = json.dumps(s.state(), sort_keys=True)
    bad = [
        {"Event": "QueueCallerJoin", "Timestamp": str(T0), "Queue": "hotline-general"},
        {"Event": "QueueCallerJoin", "Uniqueid": "m.2", "Timestamp": str(T0)},
        ev("QueueCallerJoin", T0, "m.3", "general") | {"Timestamp": "yesterday"},
        ev("AgentComplete", T0, "m.1", "general", TalkTime="long"),
        ev("AgentComplete", T0, "m.1", "general", TalkTime="-5"),
        ev("QueueCallerAbandon", T0, "m.9", "general", HoldTime="nan"),
        ev("QueueCallerJoin", T0, "m.4", "") | {"Queue": "hotline-a/b#"},
        {"Event": "AgentConnect"},
    ]
    with caplog.at_level(logging.WARNING, logger="hotline.acd.live_stats"):
        for e in bad:
            assert s.feed(e) == set()
    assert json.dumps(s.state(), sort_keys=True) == before
    assert s.skipped_events == len(bad)
    assert len([r for r in caplog.records if "malformed AMI" in r.message]) == len(bad)
    # the good event before them still counts, and a good one after them too
    feed(s, answer(T0 + 3, "m.1", "general"))
    assert s.snapshot("general", T0 + 4)["today"]["answered"] == 1


def test_rebuild_from_queue_status_does_not_count_twice() -> None:
    s = stats()
    feed(s, join(T0, "r.1", "general"), join(T0, "r.gone", "general"))
    entries = [
        {"Event": "QueueParams", "Queue": "hotline-general"},
        {
            "Event": "QueueEntry",
            "Queue": "hotline-general",
            "Uniqueid": "r.1",
            "Wait": "12",
            "CallerIDNum": "13800138000",
        },
        {
            "Event": "QueueEntry",
            "Queue": "hotline-help",
            "Uniqueid": "r.2",
            "Wait": "3",
            "CallerIDNum": "13900139000",
        },
        {"Event": "QueueEntry", "Queue": "hotline-help", "Wait": "x"},  # malformed: skipped
    ]
    s.rebuild_waiting(entries, T0 + 12)
    general = s.snapshot("general", T0 + 12)
    assert general["waiting"] == 1  # r.gone hung up while nobody listened
    assert general["today"]["offered"] == 2
    help_ = s.snapshot("help", T0 + 12)
    assert (help_["waiting"], help_["longest_wait_seconds"]) == (1, 3)
    assert help_["callers"][0]["caller"] == "139******00"
    feed(s, join(T0 + 12, "r.2", "help"))  # its late QueueCallerJoin: already known
    assert s.snapshot("help", T0 + 12)["today"]["offered"] == 0
    assert s.snapshot(TOTAL, T0 + 12)["waiting"] == 2


def test_state_survives_a_restart_and_adds_to_what_was_counted_meanwhile() -> None:
    s = stats()
    feed(s, join(T0, "s.1", "help"), answer(T0 + 4, "s.1", "help"))
    stored = json.loads(json.dumps(s.state()))
    fresh = stats()
    feed(fresh, join(T0 + 10, "s.2", "help"), abandon(T0 + 12, "s.2", "help"))
    fresh.load_state(stored)
    today = fresh.snapshot("help", T0 + 20)["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (2, 1, 1)
    assert today["service_level"] == {"15": 50.0, "20": 50.0}
    assert fresh.snapshot("help", T0 + 20)["window"]["offered"] == 2
    fresh.load_state({"help": {"day": "2026-11-24"}, "bad": "x"})  # logged, skipped
    assert fresh.snapshot("help", T0 + 20)["today"]["offered"] == 2


def test_hangup_while_waiting_without_abandon_event_is_an_abandon() -> None:
    s = stats()
    feed(s, join(T0, "h.1", "general"), ev("Hangup", T0 + 7, "h.1"))
    snap = s.snapshot("general", T0 + 8)
    assert (snap["waiting"], snap["today"]["abandoned"]) == (0, 1)
    assert s.snapshot(TOTAL, T0 + 8)["today"]["abandoned"] == 1
