"""The agents' state machine, fed with AMI events as app_queue (Asterisk 22) sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.acd.agent_state import AgentBook, AgentState, AgentView, pause_reason
from hotline.acd.errors import UnknownReason
from tests.helpers.ami_transcript import load

T0 = datetime(2026, 11, 24, 2, 0, 0, tzinfo=UTC)  # 10:00 in Nanning
TZ = ZoneInfo("Asia/Shanghai")
WRAPUP = {"complaint": 15, "general": 0}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def member(event: str, queue: str, agent: str = "1001", **fields: str) -> dict[str, str]:
    """A QueueMember* event (QueueMember, from QueueStatus, says Name/Location)."""
    base = {
        "Event": event,
        "Queue": f"hotline-{queue}",
        "MemberName": agent,
        "Interface": f"PJSIP/{agent}",
        "StateInterface": f"PJSIP/{agent}",
        "Membership": "dynamic",
        "Penalty": "0",
        "CallsTaken": "0",
        "LastCall": "0",
        "LastPause": "0",
        "LoginTime": str(int(T0.timestamp()) - 600),
        "InCall": "0",
        "Status": "1",
        "Paused": "0",
        "PausedReason": "",
        "Ringinuse": "0",
        "Wrapuptime": "0",
    }
    if event == "QueueMember":
        base["Name"] = base.pop("MemberName")
        base["Location"] = base.pop("Interface")
    return base | fields


def agent_event(event: str, queue: str, agent: str = "1001") -> dict[str, str]:
    return {
        "Event": event,
        "Queue": f"hotline-{queue}",
        "Interface": f"PJSIP/{agent}",
        "MemberName": agent,
        "Channel": "PJSIP/carrier-00000001",
        "CallerIDNum": "13800138000",
        "Linkedid": "1764000000.1",
    }


@pytest.fixture
def book() -> AgentBook:
    b = AgentBook(
        {"1001": ("complaint", "general"), "1002": ("general",)},
        lambda q: WRAPUP.get(q, 0),
        TZ,
    )
    b.rebuild([], T0)
    return b


def states(views: list[AgentView]) -> list[tuple[str, str]]:
    return [(v.agent, v.state.value) for v in views]


def test_unknown_agents_start_logged_out_with_their_configured_queues(book: AgentBook) -> None:
    v = book.view("1001")
    assert v is not None and v.state is AgentState.LOGGED_OUT
    assert v.fields() == {
        "state": "logged_out",
        "since": "2026-11-24T02:00:00+00:00",
        "reason": "",
        "queues": "complaint,general",
        "calls_handled": "0",
    }


def test_a_whole_call_logged_in_ringing_on_call_wrap_up_available(book: AgentBook) -> None:
    assert states(book.feed(member("QueueMemberAdded", "general"), at(1))) == [
        ("1001", "available")
    ]
    book.feed(member("QueueMemberAdded", "complaint"), at(1))
    v = book.view("1001")
    assert v is not None and v.queues == ("complaint", "general") and v.since == at(1)

    assert states(book.feed(agent_event("AgentCalled", "complaint"), at(5))) == [
        ("1001", "ringing")
    ]
    book.feed(member("QueueMemberStatus", "complaint", Status="6"), at(5.1))
    changed = book.feed(agent_event("AgentConnect", "complaint"), at(8))
    assert states(changed) == [("1001", "on_call")] and changed[0].calls_handled == 1
    book.feed(member("QueueMemberStatus", "complaint", Status="2", InCall="1"), at(8.1))

    # the call ends: app_queue updates LastCall, the device goes idle, wrap-up begins
    assert book.feed(agent_event("AgentComplete", "complaint"), at(60)) == []  # device in use
    book.feed(
        member("QueueMemberStatus", "general", LastCall=str(int(at(60).timestamp()))), at(60.1)
    )
    v = book.view("1001")
    assert v is not None and v.state is AgentState.WRAP_UP and v.since == at(60.1)
    assert book.next_wakeup(at(61)) == pytest.approx(14)
    assert book.tick(at(74)) == []
    assert states(book.tick(at(75))) == [("1001", "available")]


def test_a_call_from_a_queue_without_wrap_up_leaves_the_agent_available(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general"), at(1))
    book.feed(agent_event("AgentConnect", "general"), at(2))
    changed = book.feed(agent_event("AgentComplete", "general"), at(30))
    assert states(changed) == [("1001", "available")]


def test_ring_no_answer_and_an_abandoning_caller_end_ringing(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general"), at(1))
    book.feed(agent_event("AgentCalled", "general"), at(2))
    assert states(book.feed(agent_event("AgentRingNoAnswer", "general"), at(17))) == [
        ("1001", "available")
    ]
    book.feed(agent_event("AgentCalled", "general"), at(20))
    # the caller hung up while it rang: only the device state says so
    changed = book.feed(member("QueueMemberStatus", "general", Status="1"), at(22))
    assert states(changed) == [("1001", "available")]


def test_pause_with_reason_then_unpause(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general"), at(1))
    changed = book.feed(
        member("QueueMemberPause", "general", Paused="1", PausedReason="meal", Reason="meal"),
        at(10),
    )
    assert changed[0].state is AgentState.PAUSED and changed[0].fields()["reason"] == "meal"
    # a paused agent is not offered calls, and ending wrap-up does not unpause it
    assert book.tick(at(3600)) == []
    changed = book.feed(member("QueueMemberPause", "general", Paused="0"), at(3700))
    assert changed[0].state is AgentState.AVAILABLE and changed[0].reason == ""


def test_paused_in_one_queue_only_still_serves_the_others(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "complaint"), at(1))
    book.feed(member("QueueMemberAdded", "general"), at(1))
    assert book.feed(member("QueueMemberPause", "complaint", Paused="1"), at(2)) == []
    changed = book.feed(member("QueueMemberPause", "general", Paused="1"), at(3))
    assert changed[0].state is AgentState.PAUSED


def test_paused_during_a_call_is_on_call_then_paused(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "complaint"), at(1))
    book.feed(agent_event("AgentConnect", "complaint"), at(2))
    book.feed(
        member("QueueMemberPause", "complaint", Paused="1", PausedReason="break", InCall="1"),
        at(3),
    )
    assert book.view("1001").state is AgentState.ON_CALL  # type: ignore[union-attr]
    changed = book.feed(agent_event("AgentComplete", "complaint"), at(40))
    assert changed[0].state is AgentState.PAUSED and changed[0].reason == "break"


def test_log_out_of_every_queue(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "complaint"), at(1))
    book.feed(member("QueueMemberAdded", "general"), at(1))
    assert book.feed(member("QueueMemberRemoved", "complaint"), at(5))[0].queues == ("general",)
    changed = book.feed(member("QueueMemberRemoved", "general"), at(6))
    assert changed[0].state is AgentState.LOGGED_OUT
    assert changed[0].queues == ("complaint", "general")  # the configured ones


def test_calls_handled_counts_today_only(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general"), at(1))
    book.feed(agent_event("AgentConnect", "general"), at(2))
    book.feed(agent_event("AgentComplete", "general"), at(3))
    assert book.view("1001").calls_handled == 1  # type: ignore[union-attr]
    midnight = datetime(2026, 11, 25, 0, 0, 1, tzinfo=TZ)
    changed = book.tick(midnight)
    assert [(v.agent, v.calls_handled) for v in changed] == [("1001", 0)]


def test_events_of_other_channels_and_technologies_are_ignored(book: AgentBook) -> None:
    assert book.feed({"Event": "Newchannel", "Channel": "PJSIP/carrier-1"}, at(1)) == []
    assert (
        book.feed(member("QueueMemberAdded", "general") | {"Interface": "Local/x@y"}, at(1)) == []
    )


def test_an_agent_added_at_run_time_is_tracked(book: AgentBook) -> None:
    changed = book.feed(member("QueueMemberAdded", "general", agent="1009"), at(1))
    assert states(changed) == [("1009", "available")]


# ---- rebuild from QueueStatus ---------------------------------------------------------


def test_rebuild_from_queue_status_mid_call_paused_and_in_wrap_up(book: AgentBook) -> None:
    last_call = str(int(at(-5).timestamp()))
    members = [
        member("QueueMember", "complaint", InCall="1", Status="2", LastCall=last_call),
        member("QueueMember", "general", InCall="1", Status="2", LastCall=last_call),
        member("QueueMember", "general", agent="1002", Paused="1", PausedReason="training"),
        member("QueueMember", "general", agent="1003", LastCall=last_call),
        {"Event": "QueueParams", "Queue": "hotline-general", "Calls": "1"},
    ]
    views = {
        v.agent: v
        for v in book.rebuild(members, at(0), calls_today={"1001": 4, "1003": 1}, previous={})
    }
    assert views["1001"].state is AgentState.ON_CALL
    assert views["1001"].calls_handled == 5  # 4 stored calls and this one
    assert views["1001"].queues == ("complaint", "general")
    assert views["1002"].state is AgentState.PAUSED and views["1002"].reason == "training"
    # 1003 is not configured (added at run time): general has no wrap-up, so available
    assert views["1003"].state is AgentState.AVAILABLE and views["1003"].calls_handled == 1


def test_rebuild_uses_the_longest_wrap_up_of_the_member_queues(book: AgentBook) -> None:
    last_call = str(int(at(-5).timestamp()))
    members = [
        member("QueueMember", "complaint", LastCall=last_call),
        member("QueueMember", "general", LastCall=last_call),
    ]
    [one, two] = book.rebuild(members, at(0))
    assert (one.agent, one.state) == ("1001", AgentState.WRAP_UP)
    assert two.state is AgentState.LOGGED_OUT
    assert states(book.tick(at(10))) == [("1001", "available")]


def test_rebuild_keeps_since_when_the_state_did_not_change(book: AgentBook) -> None:
    previous = {
        "1001": {"state": "paused", "since": at(-300).isoformat(), "reason": "meal"},
        "1002": {"state": "on_call", "since": at(-60).isoformat()},
    }
    members = [
        member("QueueMember", "general", Paused="1", PausedReason="meal"),
        member("QueueMember", "general", agent="1002"),
    ]
    views = {v.agent: v for v in book.rebuild(members, at(0), previous=previous)}
    assert views["1001"].since == at(-300)
    assert views["1002"].state is AgentState.AVAILABLE and views["1002"].since == at(0)


def test_rebuild_after_asterisk_lost_members_unsticks_a_pause(book: AgentBook) -> None:
    book.feed(member("QueueMemberPause", "general", Paused="1", PausedReason="meal"), at(1))
    [one, _] = book.rebuild([], at(100))
    assert one.state is AgentState.LOGGED_OUT and one.reason == ""


def test_member_wrap_up_overrides_the_queue(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general", Wrapuptime="30"), at(1))
    book.feed(agent_event("AgentConnect", "general"), at(2))
    book.feed(agent_event("AgentComplete", "general"), at(10))
    assert book.view("1001").state is AgentState.WRAP_UP  # type: ignore[union-attr]
    assert states(book.tick(at(40))) == [("1001", "available")]


def test_payload_has_the_contract_fields_and_no_phone_number(book: AgentBook) -> None:
    book.feed(member("QueueMemberAdded", "general"), at(1))
    [v] = book.feed(agent_event("AgentConnect", "general"), at(2))
    assert set(v.payload()) == {"agent", "state", "since", "reason", "queues", "calls_handled"}
    assert "13800138000" not in str(v.payload())


@pytest.mark.parametrize(("given", "code"), [("meal", "meal"), ("2", "meal"), ("5", "leader_duty")])
def test_pause_reasons_by_code_or_digit(given: str, code: str) -> None:
    assert pause_reason(given).code == code


def test_unknown_pause_reason_says_what_is_allowed() -> None:
    with pytest.raises(UnknownReason, match=r"'nap'; allowed: break \(休息\), meal \(用餐\)"):
        pause_reason("nap")


# ---- a real session, recorded from Asterisk 22 (tests/fixtures/ami_agent_session.txt) ----


def test_recorded_session_login_call_wrap_up_pause_unpause() -> None:
    """Agent 1003 logs in to report and general, takes a report call (wrap-up 12 s), is
    paused for a meal, a second caller gives up waiting, the pause ends inside the
    wrap-up, and Asterisk shuts down."""
    events = load("ami_agent_session.txt")
    book = AgentBook({"1003": ("report", "general")}, lambda q: 12 if q == "report" else 0, TZ)
    t0 = datetime.fromtimestamp(float(events[1]["Timestamp"]), UTC)
    book.rebuild([], t0)
    now, seen = t0, []
    for ev in events:
        if "Timestamp" in ev:
            now = datetime.fromtimestamp(float(ev["Timestamp"]), UTC)
        seen += [
            (ev["Event"], v.state.value, v.reason, v.calls_handled) for v in book.feed(ev, now)
        ]
    assert seen == [
        ("QueueMemberAdded", "available", "", 0),
        ("QueueMemberAdded", "available", "", 0),  # queues: report, then report,general
        ("AgentCalled", "ringing", "", 0),
        ("QueueMemberStatus", "on_call", "", 0),
        ("AgentConnect", "on_call", "", 1),
        ("QueueMemberStatus", "wrap_up", "", 1),
        ("QueueMemberPause", "paused", "meal", 1),
        ("QueueMemberPause", "wrap_up", "", 1),
        ("Shutdown", "available", "", 1),  # any later event or tick ends the wrap-up
    ]
    assert book.view("1003").queues == ("report", "general")  # type: ignore[union-attr]


def test_rebuild_from_a_recorded_queue_status_mid_call() -> None:
    """QueueStatus answered by Asterisk 22 while 1003 talked to a report caller and 1004
    was paused for training (tests/fixtures/ami_queue_status.txt). InCall is 1 only in
    the queue of the call; the device state says in use in every queue."""
    reply = load("ami_queue_status.txt")
    book = AgentBook(
        {a: () for a in ("1001", "1002", "1003", "1004", "1005")},
        lambda q: 12 if q == "report" else 0,
        TZ,
    )
    views = {v.agent: v for v in book.rebuild(reply, T0, calls_today={"1003": 2})}
    assert {a: (v.state.value, v.reason) for a, v in views.items()} == {
        "1001": ("available", ""),
        "1002": ("available", ""),
        "1003": ("on_call", ""),
        "1004": ("paused", "training"),
        "1005": ("logged_out", ""),
    }
    assert views["1003"].calls_handled == 3  # two stored calls and this one
    assert views["1003"].queues == ("general", "report")  # not configured here: sorted
    assert views["1001"].queues == ("complaint", "general")


def test_a_flood_of_other_events_looks_at_every_agent_at_most_every_tick(
    book: AgentBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy hotline sends hundreds of events a second that name no agent; each used to
    recompute every agent's state, and the acd service fell behind (its queue of AMI events,
    and its memory, grew: bench/soak.py)."""
    book.feed(member("QueueMemberAdded", "complaint"), at(1))
    book.feed(agent_event("AgentConnect", "complaint"), at(2))
    book.feed(agent_event("AgentComplete", "complaint"), at(10))  # wrap-up until 25 s
    full = []
    real = book._changes

    def counting(now: datetime, only: list[str] | None = None) -> list[AgentView]:
        if only is None:
            full.append(now)
        return real(now, only)

    monkeypatch.setattr(book, "_changes", counting)
    other = {"Event": "Newchannel", "Linkedid": "1764000000.9", "Channel": "PJSIP/carrier-2"}
    seen = []
    for i in range(20_000):  # 1 ms apart: 20 s of events
        seen += book.feed(other, at(11 + i / 1000))
    assert len(full) <= 20 / 0.25 + 1
    seen += book.feed(other, at(25.3))  # the wrap-up ended: seen within a tick
    assert states(seen) == [("1001", "available")]


def test_app_queues_auto_pause_is_the_no_answer_reason(book: AgentBook) -> None:
    for q in ("complaint", "general"):
        book.feed(member("QueueMemberAdded", q), at(0))
    book.feed(agent_event("AgentCalled", "complaint"), at(1))
    assert book.view("1001").state is AgentState.RINGING  # type: ignore[union-attr]
    book.feed(agent_event("AgentRingNoAnswer", "complaint"), at(16))
    for q in ("complaint", "general"):  # autopause=all: paused in every queue
        changed = book.feed(
            member("QueueMemberPause", q, Paused="1", PausedReason="Auto-Pause"), at(16)
        )
    assert [(v.state, v.reason) for v in changed] == [(AgentState.PAUSED, "no_answer")]
    for q in ("complaint", "general"):  # 恢复: QueuePause Paused=false in every queue
        book.feed(member("QueueMemberPause", q, Paused="0"), at(30))
    assert book.view("1001").state is AgentState.AVAILABLE  # type: ignore[union-attr]


@pytest.mark.parametrize("status", ["4", "5"])
def test_a_phone_that_cannot_be_reached_is_unreachable_not_available(
    book: AgentBook, status: str
) -> None:
    book.feed(member("QueueMemberAdded", "general", agent="1002"), at(0))
    assert book.view("1002").state is AgentState.AVAILABLE  # type: ignore[union-attr]
    changed = book.feed(member("QueueMemberStatus", "general", agent="1002", Status=status), at(5))
    assert states(changed) == [("1002", "unreachable")]
    again = book.feed(member("QueueMemberStatus", "general", agent="1002", Status="1"), at(20))
    assert states(again) == [("1002", "available")]


def test_an_unreachable_agent_is_rebuilt_unreachable(book: AgentBook) -> None:
    views = book.rebuild([member("QueueMember", "general", agent="1002", Status="5")], at(0))
    assert ("1002", "unreachable") in states(views)
