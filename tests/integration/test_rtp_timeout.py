"""A call leg gone without a BYE (sip.carrier_rtp_timeout, sip.agent_rtp_timeout), through the
real Asterisk: the citizen's leg ends and the call's record is written; an agent's leg ends
and the citizen goes on to the survey. And a call whose FastAGI route was cut off says so.

The session's hotline keeps the shipped timeouts (60 s; its SIPp phones send no audio, and
no other test keeps a leg silent that long); each test here renders pjsip.conf with a short
one for the side it tests and reloads PJSIP, and puts the session's back afterwards.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.ivr_calls import walk
from tests.helpers.session_hotline import Hotline

TIMEOUT = 5  # seconds without audio, on the side a test makes vanish
SILENCE = b"\xd5"  # one A-law sample of silence: the citizen's line still sends audio


@contextmanager
def changed_env(hotline: Hotline, **values: str) -> Iterator[None]:
    saved = dict(hotline.env)
    hotline.env.update(values)
    try:
        yield
    finally:
        hotline.env.clear()
        hotline.env.update(saved)


def endpoint_timeout(hotline: Hotline, endpoint: str) -> str:
    out = hotline.asterisk(f"pjsip show endpoint {endpoint}")
    m = re.search(r"^\s*rtp_timeout\s*:\s*(\d+)", out, re.M)
    assert m, out
    return m.group(1)


def render_and_reload(hotline: Hotline, endpoint: str, want: str) -> None:
    """pjsip.conf rendered from the hotline's environment, PJSIP reloaded with it."""
    hotline.cli("asterisk", "render")
    hotline.asterisk("module reload res_pjsip.so")
    deadline = time.monotonic() + 15
    while (now := endpoint_timeout(hotline, endpoint)) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert now == want, f"{endpoint}: rtp_timeout {now} after the reload, not {want}"


@contextmanager
def rtp_timeout(hotline: Hotline, side: str, endpoint: str) -> Iterator[None]:
    """`side` (CARRIER or AGENT) times out after TIMEOUT s for the time of the block."""
    session = endpoint_timeout(hotline, endpoint)
    try:
        with changed_env(hotline, **{f"HOTLINE_SIP__{side}_RTP_TIMEOUT__SECONDS": str(TIMEOUT)}):
            render_and_reload(hotline, endpoint, str(TIMEOUT))
            yield
    finally:
        render_and_reload(hotline, endpoint, session)


@contextmanager
def new_lines(log: Path) -> Iterator[list[str]]:
    """The lines Asterisk's log gains during the block."""
    start = log.stat().st_size if log.exists() else 0
    lines: list[str] = []
    yield lines
    with log.open("rb") as fh:
        fh.seek(start)
        lines.extend(fh.read().decode(errors="replace").splitlines())


def disconnected(lines: list[str], channel_prefix: str) -> list[str]:
    return [
        line
        for line in lines
        if f"Disconnecting channel '{channel_prefix}" in line and "RTP activity" in line
    ]


def test_a_citizen_gone_without_a_bye_is_hung_up_and_the_call_recorded(
    hotline: Hotline, tone_ivr: Path, tmp_path: Path
) -> None:
    number = "13900001901"
    messages = hotline.root / "var/log/asterisk/messages.log"
    # the citizen presses 3 (complaint: agent 1001), talks on for 6 s while the agent
    # answers, then sends nothing more and no BYE; SIPp waits for the hotline's BYE
    with rtp_timeout(hotline, "CARRIER", "carrier"), new_lines(messages) as log:
        result = walk(
            tmp_path,
            number,
            [(1500, "3"), (200, SILENCE * 8000 * 6)],
            hotline_hangs_up=True,
            wait_ms=60_000,
        )
    assert result.ok, result.stdout[-2000:]  # the hotline's BYE came
    assert len(disconnected(log, "PJSIP/carrier-")) == 1, log
    assert disconnected(log, "PJSIP/1001-") == []
    call = hotline.wait_call(number)
    assert call["disposition"] == "answered" and call["agent"] == "1001"
    assert call["queue"] == "complaint" and call["talk_seconds"] is not None
    # Asterisk's cause for a leg cut for lack of RTP (not 16, a normal hang-up)
    assert call["hangup_cause"] == 44, call
    assert call["hangup_cause_text"] == "Requested channel not available", call
    assert call["survey"] == ""  # the citizen was gone: no survey


def test_an_agent_phone_gone_without_a_bye_leaves_the_citizen_to_the_survey(
    hotline: Hotline, tone_ivr: Path, tmp_path: Path
) -> None:
    number = "13900001902"
    messages = hotline.root / "var/log/asterisk/messages.log"
    # agent 1001's desk phone answers and never sends audio nor hangs up; the citizen
    # talks for 3 s, then listens until the hotline hangs up (after the survey)
    with rtp_timeout(hotline, "AGENT", "1001"), new_lines(messages) as log:
        result = walk(
            tmp_path,
            number,
            [(1500, "3"), (200, SILENCE * 8000 * 3)],
            hotline_hangs_up=True,
            wait_ms=60_000,
        )
    # the citizen's leg was not cut: the call went on to the survey, whose end hangs up
    assert result.ok, result.stdout[-2000:]
    assert len(disconnected(log, "PJSIP/1001-")) == 1, log
    assert disconnected(log, "PJSIP/carrier-") == []
    call = hotline.wait_call(number)
    assert call["disposition"] == "answered" and call["agent"] == "1001"
    assert call["survey"] == "none"  # asked, and no key pressed
    # the cause is the agent's leg's: Asterisk gives the queue caller its bridge peer's cause,
    # and the survey's Hangup() keeps it (after an agent's BYE it is 16, Normal Clearing)
    assert call["hangup_cause"] == 44, call


def test_a_call_whose_ivr_route_was_cut_off_says_so(
    hotline: Hotline, tone_ivr: Path, tmp_path: Path
) -> None:
    number = "13900001903"
    # the FastAGI server cuts every route off after 1 s; the citizen presses 3 only at 3 s
    hotline.stop_agi()
    try:
        with changed_env(hotline, HOTLINE_AGI__CALL_TIMEOUT_SECONDS="1"):
            hotline.start_agi()
            result = walk(tmp_path, number, [(3000, "3")], talk_ms=4000)
    finally:
        hotline.stop_agi()
        hotline.start_agi()
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call(number)
    assert call["ivr_result"] == "agi-cut", call
    assert call["queue"] == "general" and call["disposition"] == "answered"
