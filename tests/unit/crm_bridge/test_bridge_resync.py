"""Resync decisions after an AMI login (crm_bridge/resync.py), on the real transcript
tests/fixtures/ami_three_calls.txt: the link is cut just after agent 1001 answered
13800138001, and the bridge then asks Asterisk which channels are still up."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.calls.models import Disposition
from hotline.crm_bridge.assembler import CallAssembler, FinishedCall
from hotline.crm_bridge.cdr import CdrRow
from hotline.crm_bridge.resync import believed_alive, end_time, hangup_events, plan
from tests.helpers.ami_transcript import load

EVENTS = load("ami_three_calls.txt")
CALL = "1795531175.2"  # 13800138001, answered by agent 1001
AGENT_LEG = "1795531180.3"
NOW = datetime.fromtimestamp(1795531300, UTC)


def _until_answered() -> tuple[CallAssembler, list[dict[str, str]]]:
    """The assembler as it was when the link went: the call answered and in progress."""
    cut = next(i for i, e in enumerate(EVENTS) if e.get("Event") == "AgentConnect") + 1
    asm = CallAssembler()
    for ev in EVENTS[:cut]:
        assert asm.feed(ev) is None
    return asm, EVENTS[cut:]


def _listed(
    uniqueid: str, linkedid: str, duration: str = "00:00:07", number: str = ""
) -> dict[str, str]:
    return {
        "Event": "CoreShowChannel",
        "Channel": f"PJSIP/carrier-{uniqueid[-2:]}",
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
        "CallerIDNum": number,
        "Duration": duration,
    }


def _cdr(uniqueid: str, ended: float) -> CdrRow:
    t = datetime.fromtimestamp(ended, UTC)
    return CdrRow(CALL, uniqueid, "13800138001", "complaint", "PJSIP/carrier-02", "PJSIP/1001-03",
                  "Queue", "hotline-complaint,c", t, t, t, 0, "ANSWERED")  # fmt: skip


def _close(
    asm: CallAssembler, listing: list[dict[str, str]], ends: dict[str, datetime]
) -> list[FinishedCall]:
    before = believed_alive(asm.calls)
    p = plan(before, asm.calls, listing, finished=asm.finished, now=NOW)
    events = hangup_events(p, asm.calls, ends)
    return [c for e in events if (c := asm.feed(e)) is not None]


def test_a_call_gone_while_away_is_closed_at_the_cdr_end_time() -> None:
    asm, _ = _until_answered()
    assert believed_alive(asm.calls) == {CALL: {CALL, AGENT_LEG}}
    cdr_end = datetime.fromtimestamp(1795531185.02, UTC)
    [call] = _close(asm, [], {CALL: cdr_end})
    assert call.linkedid == CALL and asm.calls == {}
    assert call.disposition is Disposition.ANSWERED and call.agent == "1001"
    assert call.ended_at == cdr_end
    assert call.talk_seconds is not None and round(call.talk_seconds, 1) == 4.3
    assert call.hangup_cause is None  # not known: nobody saw the Hangup


def test_without_a_cdr_the_end_is_the_last_event_seen() -> None:
    asm, _ = _until_answered()
    last = asm.calls[CALL].last_seen
    [call] = _close(asm, [], {})
    assert call.ended_at == last


def test_a_call_still_up_is_left_alone() -> None:
    asm, rest = _until_answered()
    listing = [_listed(CALL, CALL), _listed(AGENT_LEG, CALL)]
    p = plan(believed_alive(asm.calls), asm.calls, listing, finished=asm.finished, now=NOW)
    assert p.hangups == {} and p.new_channels == []
    finished = [c for e in rest if (c := asm.feed(e)) is not None]  # its own hangups follow
    assert [c.linkedid for c in finished][:1] == [CALL]


def test_a_hangup_that_came_in_while_we_asked_is_not_made_up_again() -> None:
    asm, rest = _until_answered()
    before = believed_alive(asm.calls)
    agent_hangup = next(e for e in rest if e.get("Event") == "Hangup")
    assert agent_hangup["Uniqueid"] == AGENT_LEG
    asm.feed(agent_hangup)  # arrived between the request and the listing
    p = plan(before, asm.calls, [], finished=asm.finished, now=NOW)
    assert p.hangups == {CALL: {CALL}}


def test_a_call_finished_meanwhile_is_not_revived_by_the_listing() -> None:
    asm, rest = _until_answered()
    before = believed_alive(asm.calls)
    for ev in rest:
        asm.feed(ev)
    assert CALL in asm.finished
    p = plan(before, asm.calls, [_listed(CALL, CALL)], finished=asm.finished, now=NOW)
    assert p.hangups == {} and p.new_channels == []


def test_a_channel_born_while_away_starts_its_call_when_it_began() -> None:
    asm = CallAssembler()
    listing = [_listed("1795531290.9", "1795531290.9", "00:01:05", "13800138009")]
    p = plan({}, asm.calls, listing, finished=asm.finished, now=NOW)
    [new] = p.new_channels
    assert asm.feed(new) is None
    st = asm.calls["1795531290.9"]
    assert st.started_at == datetime.fromtimestamp(1795531300 - 65, UTC)
    assert st.caller_number == "13800138009"


def test_end_time_prefers_the_callers_leg() -> None:
    rows = [_cdr(AGENT_LEG, 1795531190.0), _cdr(CALL, 1795531185.0)]
    assert end_time(CALL, rows) == datetime.fromtimestamp(1795531185.0, UTC)
    assert end_time(CALL, rows[:1]) == datetime.fromtimestamp(1795531190.0, UTC)
    assert end_time("other", rows) is None
