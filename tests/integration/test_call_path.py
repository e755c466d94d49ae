"""A citizen's call through the real Asterisk, placed by SIPp (issue 2's five cases; the
one where no key is pressed is walked with tone prompts in test_ivr_walks.py)."""

from __future__ import annotations

import socket
import time
import wave
from datetime import date

from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller


def test_press_3_complaint_answered_recorded_and_drafted(hotline: Hotline, caller: Caller) -> None:
    result = caller.call("13900000001", "3", before_key_ms=1500, talk_ms=9000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000001")
    assert call["disposition"] == "answered"
    assert call["request_type"] == "complaint" and call["ivr_choice"] == "3"
    assert call["queue"] == "complaint"
    assert call["agent"] == "1001"  # the only agent with the complaint skill
    assert call["wait_seconds"] is not None and call["talk_seconds"] >= 3
    assert call["hangup_cause_text"] == "Normal Clearing"

    orders = hotline.get("/api/workorders", caller="13900000001")
    assert len(orders) == 1
    order = orders[0]
    assert order["request_type"] == "complaint" and order["status"] == "draft"
    assert order["due_working_days"] == 10 and order["linkedid"] == call["linkedid"]
    assert date.fromisoformat(order["due_date"]) > date.fromisoformat(call["started_at"][:10])

    # the recording is named by the call id, never the number, and holds audio
    path = call["recording_path"]
    assert path.endswith(f"/{call['linkedid']}.wav") and "13900000001" not in path
    wav = hotline.root / path.lstrip("/")
    assert wav.stat().st_size > 44
    with wave.open(str(wav)) as w:
        assert w.getnframes() / w.getframerate() > 5


def test_fastagi_down_call_still_reaches_an_agent(hotline: Hotline, caller: Caller) -> None:
    hotline.stop_agi()
    try:
        result = caller.call("13900000003", "3", before_key_ms=1500, talk_ms=5000)
    finally:
        hotline.start_agi()
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000003")
    assert call["disposition"] == "answered"
    assert call["ivr_result"] == "agi-FAILURE"
    assert call["queue"] == "general" and call["agent"] in ("1001", "1002")


def test_half_header_on_fastagi_port_does_not_disturb_a_call(
    hotline: Hotline, caller: Caller
) -> None:
    in_progress = caller.start("13900000004", "3", before_key_ms=4000, talk_ms=8000)
    time.sleep(1.5)  # the call is in the welcome prompt, its AGI session open
    for junk in (b"agi_network: yes\nagi_request: agi://127.0", b"", b"\x00\xff garbage\n\n"):
        with socket.create_connection(("127.0.0.1", PORTS["agi"])) as s:
            s.sendall(junk)
    result = in_progress.wait(120)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000004")
    assert call["disposition"] == "answered"
    assert call["request_type"] == "complaint" and call["agent"] == "1001"


def test_hang_up_in_the_menu_is_abandoned_in_ivr(hotline: Hotline, caller: Caller) -> None:
    result = caller.call("13900000005", None, before_key_ms=500, talk_ms=1500)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000005")
    assert call["disposition"] == "abandoned_in_ivr"
    assert call["queue"] == "" and call["agent"] == ""
    assert hotline.get("/api/workorders", caller="13900000005") == []
