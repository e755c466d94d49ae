"""Screen pop: who rings for whom (from the recorded AMI transcript) and what the page gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.acd.screen_pop import OpenOrder, PastCall, Ring, RingTracker, build_screen_pop
from tests.helpers.ami_transcript import load

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_recorded_calls_ring_with_their_menu_choice_and_first_join() -> None:
    tracker = RingTracker()
    rings: list[Ring] = []
    for i, event in enumerate(load("ami_three_calls.txt")):
        ring = tracker.feed(event, at(i))
        if ring is not None:
            rings.append(ring)
    # the second caller gave up in the queue and the third hung up in the menu: one ring
    assert len(rings) == 1
    first = rings[0]
    assert (first.agent, first.caller, first.queue) == ("1001", "13800138001", "complaint")
    assert (first.ivr_choice, first.request_type) == ("3", "complaint")
    assert first.linkedid == "1795531175.2"
    assert first.joined_at is not None and first.joined_at < first.rang_at
    # every caller's own channel hung up: nothing is kept for them
    assert tracker._calls == {}


def test_a_caller_who_overflowed_keeps_the_first_join_and_the_choice() -> None:
    tracker = RingTracker()
    ivr = {"Event": "UserEvent", "UserEvent": "HotlineIVR", "Linkedid": "L1"}
    tracker.feed(ivr | {"Choice": "2", "RequestType": "help"}, at(0))
    tracker.feed({"Event": "QueueCallerJoin", "Linkedid": "L1", "Queue": "hotline-help"}, at(1))
    tracker.feed({"Event": "QueueCallerJoin", "Linkedid": "L1", "Queue": "hotline-general"}, at(16))
    ring = tracker.feed(
        {
            "Event": "AgentCalled",
            "Linkedid": "L1",
            "CallerIDNum": "13900000001",
            "CallerIDName": "<unknown>",
            "Queue": "hotline-general",
            "Interface": "PJSIP/1002",
        },
        at(18),
    )
    assert ring is not None
    assert (ring.agent, ring.queue, ring.request_type, ring.caller_name) == (
        "1002",
        "general",
        "help",
        "",
    )
    assert ring.joined_at == at(1)
    assert Ring.from_json(ring.to_json()) == ring
    # a ring for a channel that is not an agent's is no screen pop
    assert tracker.feed({"Event": "AgentCalled", "Linkedid": "L1", "Interface": ""}, at(19)) is None


def ring(**kw: object) -> Ring:
    base: dict[str, object] = {
        "agent": "1001",
        "linkedid": "L9",
        "caller": "13900000009",
        "caller_name": "",
        "queue": "complaint",
        "ivr_choice": "3",
        "request_type": "complaint",
        "joined_at": at(0),
        "rang_at": at(12),
    }
    return Ring(**(base | kw))  # type: ignore[arg-type]


def past(linkedid: str, started: float, disposition: str = "answered") -> PastCall:
    return PastCall(linkedid, at(started), disposition, "complaint", "1002", 30.0)


def order(number: str, status: str, accepted: float) -> OpenOrder:
    return OpenOrder(
        number, status, "complaint", at(accepted), at(accepted + 86400), "噪音", "施工"
    )


def test_the_pop_carries_the_caller_the_wait_the_history_and_a_prefilled_form() -> None:
    calls = [past("L1", -7200), past("L9", 0), past("L2", -3600, "abandoned_in_queue")]
    orders = [
        order("20261120-000001", "dispatched", -400_000),
        order("20261101-000002", "archived", -9e6),
    ]
    pop = build_screen_pop(ring(), calls, orders, at(20), queue_title="投诉")
    assert (pop["queue"], pop["queue_title"]) == ("complaint", "投诉")
    assert pop["caller"] == "13900000009"  # the agent sees the full number
    assert (pop["request_type"], pop["request_type_title"], pop["ivr_choice"]) == (
        "complaint",
        "投诉",
        "3",
    )
    assert pop["wait_seconds"] == 20  # from the first queue join, not from the ring
    # the call ringing now is not a previous call; newest first
    assert [c["linkedid"] for c in pop["previous_calls"]] == ["L2", "L1"]
    # archived orders are not open
    assert [o["number"] for o in pop["open_orders"]] == ["20261120-000001"]
    assert pop["form"] == {
        "linkedid": "L9",
        "request_type": "complaint",
        "channel": "phone",
        "caller_number": "13900000009",
        "contact": "13900000009",
    }


def test_a_caller_without_a_menu_choice_gets_a_consultation_form_and_no_history() -> None:
    pop = build_screen_pop(ring(request_type="", ivr_choice="none", joined_at=None), [], [], at(15))
    assert pop["request_type"] == "" and pop["request_type_title"] == "未选择"
    assert pop["form"]["request_type"] == "consultation"
    assert pop["wait_seconds"] == 3  # no join seen: from the ring
    assert pop["previous_calls"] == [] and pop["open_orders"] == []
