"""Emergency linkage through the real Asterisk: SIPp as citizen, agent and emergency operator.

The agent (1003 or 1004, report queue: key 4) brings in a line with its feature code (*119)
or through the API; the line's destinations are the session's `emergency.lines`
(tests/integration/conftest.py): 119 answers on 5090, 120's destination (5096) and backup
(5098) are busy. Menu prompts are 0.3 s tones (tone_ivr).
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.app.dtmf_pcap import write_walk
from tests.helpers.ami_events import AmiEvents
from tests.helpers.ivr_calls import Phone, walk
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import AUDIO, CallInProgress

BYE_BY_AGENT = """\
  <send retrans="500">
    <![CDATA[
      BYE [$caller_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:agent@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: [$caller_from]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>"""

BYE_BY_HOTLINE = """\
  <nop><action><log message="from [$caller_from] at [$caller_contact]"/></action></nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>"""


def agent_phone(work: Path, agent: str, port: int, media: int, keys: str, **kw: str) -> Phone:
    """The agent's desk phone: answers, presses `keys` (or only talks), then either hangs
    up itself (agent_leaves) or waits for the hotline's BYE."""
    pcap = AUDIO
    if keys:
        pcap = work / f"agent-{agent}-keys.pcap"
        write_walk(pcap, [(0, keys[0]), *((250, k) for k in keys[1:])])
    ending = BYE_BY_AGENT if kw.pop("agent_leaves", "") else BYE_BY_HOTLINE
    return Phone(
        work, port, media, "agent_linkage.xml", keys_pcap=str(pcap), ending=ending, **kw
    ).start()


def conference_members(hotline: Hotline, conference: str) -> list[str]:
    out = hotline.asterisk(f"confbridge list {conference}", check=False)
    return [line.split()[0] for line in out.splitlines() if line.startswith("PJSIP/")]


def linkage(hotline: Hotline, linkedid: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{hotline.api}/api/calls/{linkedid}/linkage", headers=hotline.auth, timeout=10)
    r.raise_for_status()
    return list(r.json())


@pytest.fixture(scope="module")
def lines(tone_ivr: Path, hotline: Hotline) -> Iterator[Path]:
    """119 answers on 5090; both destinations of 120 are busy."""
    work = tone_ivr.parent
    phones = [
        Phone(work, 5090, 17700).start(),
        Phone(work, 5096, 17720, "busy.xml").start(),
        Phone(work, 5098, 17740, "busy.xml").start(),
    ]
    try:
        yield work
    finally:
        for p in phones:
            p.stop()
        for agent in ("1003", "1004"):
            hotline.cli("agent", "logout", agent, check=False)


def only_logged_in(hotline: Hotline, agent: str) -> None:
    for other in ("1003", "1004"):
        hotline.cli("agent", "login" if other == agent else "logout", other)


def test_agent_brings_in_119_and_leaves_citizen_and_operator_together(
    hotline: Hotline, lines: Path, tmp_path: Path
) -> None:
    only_logged_in(hotline, "1003")
    phone = agent_phone(
        tmp_path, "1003", 5074, 17400, "*119", before_ms="1500", stay_ms="9000", agent_leaves="1"
    )
    try:
        with AmiEvents(hotline) as ami:
            citizen = CallInProgress(
                lambda: walk(tmp_path, "13900000921", [(1500, "4")], talk_ms=18000)
            )
            joins = ami.wait("ConfbridgeJoin", 3, timeout=40)
            conference = joins[0]["Conference"]
            channels = [j["Channel"] for j in joins]
            assert any(c.startswith("PJSIP/1003-") for c in channels), channels
            citizen_uid = joins[0]["Linkedid"]
            citizen_chan = next(j["Channel"] for j in joins if j["Uniqueid"] == citizen_uid)
            operator = [c for c in channels if c.startswith("PJSIP/carrier-") and c != citizen_chan]
            assert len(operator) == 1, channels
            assert {j["Linkedid"] for j in joins} == {joins[0]["Linkedid"]}  # one call
            # the agent hangs up: citizen and operator stay in the conference
            ami.wait(
                "ConfbridgeLeave",
                1,
                timeout=20,
                Channel=next(c for c in channels if c.startswith("PJSIP/1003-")),
            )
            time.sleep(1.0)
            assert sorted(conference_members(hotline, conference)) == sorted(
                [citizen_chan, operator[0]]
            )
            assert citizen.wait(60).ok
            ami.wait("Hangup", 1, timeout=15, Uniqueid=citizen_uid)  # the whole call, captured
    finally:
        phone.stop()
    call = hotline.wait_call("13900000921")
    assert call["emergency"] and call["emergency_line"] == "119"
    [link] = linkage(hotline, call["linkedid"])
    assert (link["line"], link["via"], link["agent"], link["outcome"]) == (
        "119",
        "agent",
        "1003",
        "connected",
    )
    assert link["destination"] == "primary" and link["attempts"] == ["primary:ANSWER"]
    roles = {(p["role"], p["party"]) for p in link["parties"]}
    assert roles == {("citizen", ""), ("agent", "1003"), ("operator", "119")}
    for p in link["parties"]:
        assert p["joined_at"] and p["left_at"] and p["left_at"] >= p["joined_at"]
    agent_left = next(p["left_at"] for p in link["parties"] if p["role"] == "agent")
    operator_left = next(p["left_at"] for p in link["parties"] if p["role"] == "operator")
    assert agent_left < operator_left
    # the recording (MixMonitor on the citizen's channel) runs on through the conference
    with wave.open(str(hotline.root / call["recording_path"].lstrip("/"))) as w:
        recorded = w.getnframes() / w.getframerate()
    citizen_left = next(p["left_at"] for p in link["parties"] if p["role"] == "citizen")
    on_the_line = datetime.fromisoformat(citizen_left) - datetime.fromisoformat(call["started_at"])
    assert recorded >= on_the_line.total_seconds() - 1.5, (recorded, on_the_line)
    orders = hotline.get("/api/workorders", caller="13900000921")
    assert orders and all(o["emergency"] for o in orders)  # 突发
    invite = (lines / "phone-5090-messages.log").read_text(errors="replace")
    assert "INVITE sip:119@127.0.0.1:5090" in invite and "13900000921" in invite


def test_busy_line_and_backup_bring_agent_and_citizen_back_together(
    hotline: Hotline, lines: Path, tmp_path: Path, verbose_log: Path
) -> None:
    only_logged_in(hotline, "1004")
    # the deprecated `recordings user add` still prints a (now expiring) token
    token = hotline.cli("recordings", "user", "add", "agent1004e", "--role", "agent",
                        "--agent-id", "1004").strip().splitlines()[-1]  # fmt: skip
    phone = agent_phone(tmp_path, "1004", 5076, 17500, "", before_ms="500", stay_ms="0")
    try:
        with AmiEvents(hotline) as ami:
            citizen = CallInProgress(
                lambda: walk(tmp_path, "13900000922", [(1500, "4")], talk_ms=22000,
                             port=5063, media_port=16200)
            )  # fmt: skip
            ami.wait("AgentConnect", 1, timeout=30, MemberName="1004")
            r = httpx.post(
                f"{hotline.api}/api/agents/1004/emergency",
                json={"line": "120"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            outcome = ami.wait(
                "UserEvent", 1, timeout=40, UserEvent="HotlineLinkage", Step="outcome"
            )
            assert outcome[0]["Outcome"] == "failed"
            # the agent heard why, and is back with the citizen in the conference
            joins = ami.wait("ConfbridgeJoin", 3, timeout=30)
            conference = joins[0]["Conference"]
            time.sleep(1.0)
            members = conference_members(hotline, conference)
            assert len(members) == 2 and any(m.startswith("PJSIP/1004-") for m in members)
            assert citizen.wait(60).ok
            ami.wait("Hangup", 1, timeout=15, Uniqueid=joins[0]["Linkedid"])
    finally:
        phone.stop()
    call = hotline.wait_call("13900000922")
    [link] = linkage(hotline, call["linkedid"])
    assert (link["line"], link["via"], link["agent"], link["outcome"]) == (
        "120",
        "api",
        "1004",
        "failed",
    )
    assert link["attempts"] == ["primary:BUSY", "backup:BUSY"]
    assert {p["role"] for p in link["parties"]} == {"citizen", "agent"}
    primary = (lines / "phone-5096-messages.log").read_text(errors="replace")
    backup = (lines / "phone-5098-messages.log").read_text(errors="replace")
    assert "INVITE sip:120@127.0.0.1:5096" in primary
    assert (
        "12345" in primary.split("INVITE sip:120@", 1)[1].split("\n\n", 1)[0]
    )  # hotline caller ID
    assert "INVITE sip:0771120@127.0.0.1:5098" in backup  # the backup's prefix
    heard = verbose_log.read_text(errors="replace")
    assert "hotline/linkage-backup" in heard and "hotline/linkage-busy" in heard


def test_ivr_star_2_reaches_119_with_the_callers_number(
    hotline: Hotline, lines: Path, tmp_path: Path
) -> None:
    result = walk(tmp_path, "13900000923", [(1500, "*"), (1500, "2")], talk_ms=4000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000923")
    assert call["emergency_line"] == "119" and call["ivr_result"] == "emergency-119"
    [link] = linkage(hotline, call["linkedid"])
    assert (link["via"], link["outcome"], link["agent"]) == ("ivr", "connected", "")
    assert {p["role"] for p in link["parties"]} == {"citizen", "operator"}
    invite = (lines / "phone-5090-messages.log").read_text(errors="replace")
    request = invite[invite.rindex("INVITE sip:119@127.0.0.1:5090") :]
    assert "13900000923" in request.split("\n\n", 1)[0]  # the caller's number, kept
