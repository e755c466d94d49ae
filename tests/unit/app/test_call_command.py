"""`hotline call`'s pure parts: the keys typed, SIPp's failure in a line, the summary of
what the hotline stored (hand-made records, hand-written expected text)."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.app.call import CallResult, failure, parse_keys, sip_answers
from hotline.app.cli_call import describe
from hotline.calls.models import CallRecord
from hotline.recordings.models import Recording
from hotline.workorders.models import WorkOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_one_key_comes_first_ms_after_the_answer() -> None:
    assert parse_keys("3", first_ms=1500, gap_ms=2000) == [(1500, "3")]


def test_keys_typed_together_go_350_ms_apart_and_a_space_waits_the_gap() -> None:
    assert parse_keys("7 12#", first_ms=1500, gap_ms=2000) == [
        (1500, "7"),
        (2000, "1"),
        (350, "2"),
        (350, "#"),
    ]


def test_the_key_after_star_waits_for_the_emergency_menu() -> None:
    assert parse_keys("*2", first_ms=1000, gap_ms=2500) == [(1000, "*"), (2500, "2")]
    assert parse_keys(" *  2 ", first_ms=1000, gap_ms=2500) == [(1000, "*"), (2500, "2")]


def test_no_keys_and_letter_keys() -> None:
    assert parse_keys("", first_ms=1500, gap_ms=1500) == []
    assert parse_keys("a", first_ms=100, gap_ms=100) == [(100, "A")]


def test_a_character_that_is_no_key_is_refused() -> None:
    with pytest.raises(ValueError, match="'x' is no phone key"):
        parse_keys("3x", first_ms=1500, gap_ms=1500)


def test_failure_names_the_sip_error_the_hang_up_or_the_time_out() -> None:
    assert failure(CallResult(0, "", "")) == ""
    busy = CallResult(1, "", "", "UDP message received [300] bytes :\n\nSIP/2.0 486 Busy Here\n")
    assert failure(busy) == "SIP error 486 Busy Here"
    bye = "Aborting call on unexpected message for Call-Id '1-2@127.0.0.1': while expecting "
    bye += "'200' (index 9), received 'BYE sip:13800138000@127.0.0.1:5161 SIP/2.0"
    assert failure(CallResult(1, "", bye)) == "the hotline hung up first"
    timed_out = CallResult(255, "", "s timed out after '20.000' seconds")
    assert failure(timed_out) == "no answer from the hotline in time (SIPp timed out)"
    assert failure(CallResult(255, "", "Unable to bind\nFatal error\n")) == (
        "SIPp failed (exit 255): Fatal error"
    )


def test_sip_answers_any_response_and_not_a_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        got: list[bytes] = []

        def answer() -> None:
            data, peer = server.recvfrom(4096)
            got.append(data)
            server.sendto(b"SIP/2.0 404 Not Found\r\n\r\n", peer)

        thread = threading.Thread(target=answer)
        thread.start()
        assert sip_answers("127.0.0.1", port, "127.0.0.1", timeout_s=5)
        thread.join(5)
    assert got[0].startswith(b"OPTIONS sip:127.0.0.1:")
    assert not sip_answers("127.0.0.1", port, "127.0.0.1", timeout_s=1)  # closed now


def _record(**kw: object) -> CallRecord:
    values: dict[str, object] = {
        "id": 7,
        "linkedid": "1700000000.12",
        "tenant": "main",
        "caller_number": "13800138000",
        "started_at": datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC),  # 09:00 in Shanghai
        "ended_at": datetime(2026, 3, 2, 1, 0, 14, 500000, tzinfo=UTC),
        "ivr_choice": "3",
        "ivr_result": "chosen",
        "request_type": "complaint",
        "queue": "complaint",
        "wait_seconds": 0.42,
        "agent": "1001",
        "answered_at": datetime(2026, 3, 2, 1, 0, 4, tzinfo=UTC),
        "talk_seconds": 10.5,
        "hangup_cause": 16,
        "hangup_cause_text": "Normal Clearing",
        "disposition": "answered",
        "recording_path": "/var/spool/asterisk/monitor/hotline/1700000000.12.wav",
    }
    return CallRecord.model_validate(values | kw)


def test_the_summary_of_an_answered_complaint() -> None:
    order = WorkOrder(
        number="20260302-000001",
        request_type="complaint",
        accepted_at=datetime(2026, 3, 2, 1, 0, 4, tzinfo=UTC),
        due_date=date(2026, 3, 16),
        due_working_days=10,
    )
    recording = Recording(
        linkedid="1700000000.12",
        path="/var/spool/asterisk/monitor/hotline/1700000000.12.wav",
        created_at=datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC),
        status="archived",
    )
    text = describe(_record(), order, recording, tz=SHANGHAI, queue_titles={"complaint": "投诉"})
    assert text.splitlines() == [
        "menu:        3 -> complaint 投诉 (chosen)",
        "queue:       complaint 投诉, waited 0.4 s",
        "agent:       agent 1001 answered at 2026-03-02 09:00:04, talked 10.5 s",
        "call record: #7 linkedid 1700000000.12, answered, 2026-03-02 09:00:00 for 14.5 s, "
        "hang-up cause 16 Normal Clearing",
        "recording:   /var/spool/asterisk/monitor/hotline/1700000000.12.wav (archived)",
        "work order:  20260302-000001 draft, complaint 投诉, due 2026-03-16 (10 working days)",
    ]


def test_the_summary_of_a_call_that_left_in_the_menu() -> None:
    record = _record(
        ivr_choice="",
        ivr_result="",
        request_type="",
        queue="",
        wait_seconds=None,
        agent="",
        answered_at=None,
        talk_seconds=None,
        hangup_cause=None,
        disposition="abandoned_in_ivr",
        recording_path="",
    )
    assert describe(record, None, None, tz=SHANGHAI, queue_titles={}).splitlines() == [
        "menu:        no key -> -",
        "queue:       -",
        "agent:       nobody answered",
        "call record: #7 linkedid 1700000000.12, abandoned_in_ivr, 2026-03-02 09:00:00 for 14.5 s",
        "recording:   none",
        "work order:  none (only an answered call with a request type drafts one)",
    ]
