"""Emergency linkage in the call record, assembled from AMI events (crm_bridge/linkage.py).

tests/fixtures/ami_linkage.txt was recorded from tests/integration/test_emergency.py
(HOTLINE_AMI_CAPTURE, the events the bridge uses): 13900000921 answered by agent 1003, who
pressed *119; 119 answered; the agent hung up, then the citizen. 13900000922 answered by
1004, who brought in 120 through the API; 120's destination and backup were busy; the agent
heard why and was back with the citizen until the citizen hung up. The other tests use
events shaped like those.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, SQLModel, create_engine, select

from hotline.calls.models import EmergencyLinkage, EmergencyParty
from hotline.crm_bridge.assembler import CallAssembler, FinishedCall
from hotline.crm_bridge.journal import decode, encode
from hotline.crm_bridge.service import store_call
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.models import WorkOrder
from tests.helpers.ami_transcript import load

CALL = "1795600000.10"
CITIZEN, AGENT, OPERATOR = CALL, "1795600000.11", "1795600020.12"
T0 = 1795600000.0
CONF = f"hotline-{CALL}"


def ev(name: str, t: float, uid: str, channel: str, **fields: str) -> dict[str, str]:
    return {
        "Event": name,
        "Timestamp": f"{T0 + t:.6f}",
        "Channel": channel,
        "Uniqueid": uid,
        "Linkedid": CALL,
        "CallerIDNum": "13900000921" if uid == CITIZEN else "",
        **fields,
    }


def linkage(t: float, uid: str, channel: str, **fields: str) -> dict[str, str]:
    return ev("UserEvent", t, uid, channel, UserEvent="HotlineLinkage", **fields)


C, A, OP = "PJSIP/carrier-0000000a", "PJSIP/1003-0000000b", "PJSIP/carrier-0000000c"


def three_way() -> list[dict[str, str]]:
    return [
        ev("Newchannel", 0, CITIZEN, C),
        ev(
            "UserEvent",
            1,
            CITIZEN,
            C,
            UserEvent="HotlineIVR",
            Choice="4",
            RequestType="report",
            Queue="report",
            Result="chosen",
            Emergency="",
        ),
        ev("QueueCallerJoin", 2, CITIZEN, C, Queue="hotline-report"),
        ev("Newchannel", 2.1, AGENT, A),
        ev("AgentConnect", 3, CITIZEN, C, Queue="hotline-report", MemberName="1003", HoldTime="1"),
        ev("AgentComplete", 8, CITIZEN, C, Queue="hotline-report", MemberName="1003", TalkTime="5"),
        linkage(8.1, AGENT, A, Step="agent", Line="119", Agent="1003"),
        ev("ConfbridgeJoin", 8.2, AGENT, A, Conference=CONF),
        linkage(8.2, CITIZEN, C, Step="start", Line="119", Seq="1", Via="agent", Agent="1003"),
        linkage(11, CITIZEN, C, Step="dial", Line="119", Seq="1", Destination="primary"),
        ev("Newchannel", 11, OPERATOR, OP),
        linkage(
            12,
            CITIZEN,
            C,
            Step="outcome",
            Line="119",
            Seq="1",
            Outcome="connected",
            Destination="primary",
        ),
        linkage(12, OPERATOR, OP, Step="operator", Line="119", Seq="1", Destination="primary"),
        ev("ConfbridgeJoin", 12.1, CITIZEN, C, Conference=CONF),
        ev("ConfbridgeJoin", 12.1, OPERATOR, OP, Conference=CONF),
        ev("ConfbridgeLeave", 17, AGENT, A, Conference=CONF),
        ev("Hangup", 17, AGENT, A, Cause="16"),
        ev("ConfbridgeLeave", 25, CITIZEN, C, Conference=CONF),
        ev("Hangup", 25, CITIZEN, C, Cause="16"),
        ev("ConfbridgeLeave", 25.1, OPERATOR, OP, Conference=CONF),
        ev("Hangup", 25.2, OPERATOR, OP, Cause="16"),
    ]


def busy_then_back() -> list[dict[str, str]]:
    """Agent 1004 through the API: 120's destination and backup busy, the agent hears why."""
    a = "PJSIP/1004-0000000b"
    return [
        ev("Newchannel", 0, CITIZEN, C),
        ev("QueueCallerJoin", 2, CITIZEN, C, Queue="hotline-report"),
        ev("Newchannel", 2.1, AGENT, a),
        ev("AgentConnect", 3, CITIZEN, C, Queue="hotline-report", MemberName="1004", HoldTime="1"),
        linkage(8.1, AGENT, a, Step="agent", Line="120", Agent="1004"),
        ev("ConfbridgeJoin", 8.2, AGENT, a, Conference=CONF),
        linkage(8.2, CITIZEN, C, Step="start", Line="120", Seq="1", Via="api", Agent="1004"),
        linkage(11, CITIZEN, C, Step="dial", Line="120", Seq="1", Destination="primary"),
        linkage(
            11.1,
            CITIZEN,
            C,
            Step="result",
            Line="120",
            Seq="1",
            Destination="primary",
            DialStatus="BUSY",
        ),
        linkage(
            11.2,
            CITIZEN,
            C,
            Step="result",
            Line="120",
            Seq="1",
            Destination="backup",
            DialStatus="BUSY",
        ),
        linkage(11.3, CITIZEN, C, Step="outcome", Line="120", Seq="1", Outcome="failed"),
        ev("ConfbridgeLeave", 11.4, AGENT, a, Conference=CONF),  # to hear why
        linkage(16, AGENT, a, Step="agent", Line="120", Agent="1004"),
        ev("ConfbridgeJoin", 16.1, AGENT, a, Conference=CONF),
        ev("ConfbridgeJoin", 15, CITIZEN, C, Conference=CONF),
        ev("ConfbridgeLeave", 30, CITIZEN, C, Conference=CONF),
        ev("Hangup", 30, CITIZEN, C, Cause="16"),
        ev("ConfbridgeLeave", 30.1, AGENT, a, Conference=CONF),
        ev("Hangup", 30.2, AGENT, a, Cause="16"),
    ]


def assemble(events: list[dict[str, str]]) -> FinishedCall:
    asm = CallAssembler()
    done = [c for e in events if (c := asm.feed(e)) is not None]
    assert asm.calls == {} and len(done) == 1
    return done[0]


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, UTC)


def test_recorded_transcript() -> None:
    events = load("ami_linkage.txt")
    asm = CallAssembler()
    calls = {c.caller_number: c for e in events if (c := asm.feed(e)) is not None}
    assert asm.calls == {}
    # the API's helper leg (Local/120@hotline-linkage-api) made no call of its own
    assert set(calls) == {"13900000921", "13900000922"}

    three = calls["13900000921"]
    assert three.emergency and three.emergency_line == "119" and three.agent == "1003"
    [link] = three.linkages
    assert (link.line, link.via, link.agent, link.outcome) == ("119", "agent", "1003", "connected")
    assert link.attempts == ("primary:ANSWER",) and link.connected_at is not None
    parties = {(p.role, p.party): p for p in link.parties}
    assert sorted(parties) == [("agent", "1003"), ("citizen", ""), ("operator", "119")]
    agent, citizen, operator = (
        parties["agent", "1003"],
        parties["citizen", ""],
        parties["operator", "119"],
    )
    # the agent waited while it rang; citizen and operator joined as it answered
    assert agent.joined_at < citizen.joined_at and agent.joined_at < operator.joined_at
    assert abs((citizen.joined_at - operator.joined_at).total_seconds()) < 1
    # the agent left, and the two stayed together until the citizen hung up
    assert agent.left_at < citizen.left_at <= operator.left_at

    back = calls["13900000922"]
    assert back.emergency and back.emergency_line == "120" and back.agent == "1004"
    [link] = back.linkages
    assert (link.line, link.via, link.agent, link.outcome) == ("120", "api", "1004", "failed")
    assert link.attempts == ("primary:BUSY", "backup:BUSY") and link.connected_at is None
    assert [p.role for p in link.parties] == ["agent", "citizen", "agent"]
    first, citizen, again = link.parties
    # the agent waited while it rang, left to hear why, and was back with the citizen
    assert first.left_at <= citizen.joined_at < again.joined_at < again.left_at
    assert citizen.left_at <= again.left_at


def test_three_way_call_lists_each_party_with_its_times() -> None:
    call = assemble(three_way())
    assert call.emergency and call.emergency_line == "119"
    [link] = call.linkages
    assert (link.line, link.via, link.agent) == ("119", "agent", "1003")
    assert (link.outcome, link.destination, link.attempts) == (
        "connected",
        "primary",
        ("primary:ANSWER",),
    )
    assert link.started_at == at(8.2) and link.connected_at == at(12)
    parties = {(p.role, p.party): (p.joined_at, p.left_at) for p in link.parties}
    assert parties == {
        ("agent", "1003"): (at(8.2), at(17)),
        ("citizen", ""): (at(12.1), at(25)),
        ("operator", "119"): (at(12.1), at(25.1)),
    }


def test_the_order_of_events_does_not_matter() -> None:
    expected = assemble(three_way())
    for seed in range(5):
        events = three_way()
        random.Random(seed).shuffle(events)
        # the call ends at the last channel's hangup: keep that one last
        events.sort(key=lambda e: e["Event"] == "Hangup" and e["Uniqueid"] == OPERATOR)
        assert assemble(events).linkages == expected.linkages


def test_busy_destination_and_backup_and_the_agent_back_with_the_citizen() -> None:
    call = assemble(busy_then_back())
    [link] = call.linkages
    assert (link.via, link.agent, link.outcome) == ("api", "1004", "failed")
    assert link.attempts == ("primary:BUSY", "backup:BUSY") and link.connected_at is None
    stays = sorted((p.role, p.joined_at, p.left_at) for p in link.parties)
    assert stays == [
        ("agent", at(8.2), at(11.4)),  # waiting while it rang
        ("agent", at(16.1), at(30.1)),  # back, after hearing why
        ("citizen", at(15), at(30)),
    ]


def test_a_citizen_who_hangs_up_while_it_rings_leaves_an_abandoned_linkage() -> None:
    events = [e for e in three_way() if e["Uniqueid"] != OPERATOR and e.get("Step") != "outcome"]
    events = [
        e for e in events if not (e["Uniqueid"] == CITIZEN and e["Event"] == "ConfbridgeJoin")
    ]
    [link] = assemble(events).linkages
    assert link.outcome == "abandoned" and link.attempts == ()


def test_the_journal_keeps_linkages() -> None:
    call = assemble(three_way())
    assert decode(encode(call)) == call


def test_stored_twice_gives_one_set_of_rows_and_an_emergency_order() -> None:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    call = assemble(three_way())
    tz = ZoneInfo("Asia/Shanghai")
    for _ in range(2):
        with Session(engine) as s:
            store_call(s, call, tenant="t", calendar=WorkCalendar(), tz=tz)
            s.commit()
    with Session(engine) as s:
        [row] = s.exec(select(EmergencyLinkage)).all()
        assert (row.line, row.outcome, row.attempts) == ("119", "connected", "primary:ANSWER")
        parties = s.exec(select(EmergencyParty)).all()
        assert sorted(p.role for p in parties) == ["agent", "citizen", "operator"]
        [order] = s.exec(select(WorkOrder)).all()
        assert order.emergency and order.request_type == "report"  # 突发


def test_the_apis_helper_leg_is_no_call() -> None:
    from hotline.crm_bridge.journal import used

    helper = "Local/120@hotline-linkage-api-00000003;1"
    events = [
        {"Event": "Newchannel", "Channel": helper, "Uniqueid": "9.1", "Linkedid": "9.1"},
        {"Event": "Hangup", "Channel": helper, "Uniqueid": "9.1", "Linkedid": "9.1"},
    ]
    asm = CallAssembler()
    assert [asm.feed(e) for e in events] == [None, None] and asm.calls == {}
    assert not any(used(e) for e in events)
