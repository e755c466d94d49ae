"""Emergency (突发) orders phoned to their unit through the real Asterisk (art. 25.2):
the unit's duty phone answers and presses 1, and the order is signed; a duty phone
that does not answer is tried again, then the liaison is rung and signs.

The units' phones are one SIPp UAS on 5086 (tests/sipp/duty_phones.xml): one number
only rings, the others answer and press 1 (RFC 2833). Timings: tests/integration/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.app.dtmf_pcap import write_walk
from tests.helpers.ivr_calls import Phone
from tests.helpers.session_hotline import Hotline
from tests.helpers.waiting import until

PHONES_PORT = 5086


def post(hotline: Hotline, path: str, body: dict[str, Any]) -> Any:
    r = hotline.post(path, body)
    assert r.status_code < 300, r.text
    return r.json()


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Callable[[str], Phone]]:
    """Start the units' phones; the number given only rings."""
    started: list[Phone] = []
    key = tmp_path / "key-1.pcap"
    write_walk(key, [(0, "1"), (3000, "1")])  # pressed again 3 s later, as people do

    def start(ring_only: str) -> Phone:
        phone = Phone(
            tmp_path,
            PHONES_PORT,
            17900,
            "duty_phones.xml",
            ring_only=ring_only,
            key_pcap=str(key),
            before_key_ms="1500",
        ).start()
        started.append(phone)
        return phone

    yield start
    for phone in started:
        phone.stop()


def emergency_order(hotline: Hotline, unit: str, duty: str, liaison: str) -> str:
    hotline.cli(
        "orders", "unit-add", unit, f"{unit}局", "--duty-phone", duty, "--liaison-phone", liaison
    )
    order = post(
        hotline,
        "/api/workorders",
        {
            "request_type": "help",
            "emergency": True,
            "content": "燃气泄漏",
            "contact": "13900007199",
        },
    )
    number = str(order["number"])
    post(hotline, f"/api/workorders/{number}/dispatch", {"unit": unit, "actor": "1002"})
    return number


def signed(hotline: Hotline, number: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        order: dict[str, Any] = hotline.get(f"/api/workorders/{number}")
        return order if order["status"] == "signed" else None

    return check


def duty_call(hotline: Hotline, number: str) -> dict[str, Any]:
    [call] = hotline.get("/api/duty-calls", order=number)
    return dict(call)


def test_the_duty_phone_presses_1_and_the_order_is_signed(
    hotline: Hotline, phones: Callable[[str], Phone]
) -> None:
    phone = phones("none")
    number = emergency_order(hotline, "dutyrq", "0771-2807101", "13900007102")
    order = until("the order signed by key 1", signed(hotline, number), 30)

    dispatched = datetime.fromisoformat(order["dispatched_at"])
    signed_at = datetime.fromisoformat(order["signed_at"])
    assert dispatched <= signed_at < dispatched + timedelta(minutes=30)
    assert order["sign_late_minutes"] == 0
    # the 24-hour clock (art. 26.2.7) runs, and the 30-minute return window from signing
    assert datetime.fromisoformat(order["due_at"]) == dispatched + timedelta(hours=24)
    sign = order["events"][-1]
    assert (sign["action"], sign["to_status"]) == ("sign", "signed")
    assert sign["actor"] == "duty 077******01"  # the duty phone, masked

    call = until(
        "the duty call closed",
        lambda: (c := duty_call(hotline, number))["status"] == "signed" and c,
    )
    assert call["signed_by"] == "duty 077******01"
    assert call["minutes_late"] == 0
    [attempt] = call["attempts"]
    assert (attempt["role"], attempt["outcome"], attempt["try_no"]) == ("duty", "signed", 1)
    assert attempt["answered_at"] is not None
    # the hotline rang the duty phone's digits at the configured address, as 12345, and
    # hung up after "已签收"
    invite = until("the hotline's BYE", lambda: "BYE sip:" in (r := phone.received()) and r)
    assert "INVITE sip:07712807101@127.0.0.1:5086" in invite
    assert 'From: "12345" <sip:12345@' in invite


def test_no_answer_is_tried_again_then_the_liaison_signs(
    hotline: Hotline, phones: Callable[[str], Phone]
) -> None:
    phone = phones("13900007111")
    number = emergency_order(hotline, "dutyxf", "13900007111", "139 0000 7112")
    order = until("the order signed by the liaison", signed(hotline, number), 60)
    assert order["events"][-1]["actor"] == "liaison 139******12"

    call = until(
        "the liaison's call recorded",
        lambda: (c := duty_call(hotline, number))["status"] == "signed" and c,
    )
    tried = [(a["role"], a["number"], a["try_no"], a["outcome"]) for a in call["attempts"]]
    assert tried == [
        ("duty", "139******11", 1, "no_answer"),
        ("duty", "139******11", 2, "no_answer"),
        ("liaison", "139******12", 1, "signed"),
    ]
    assert all(a["answered_at"] is None for a in call["attempts"][:2])
    assert call["signed_by"] == "liaison 139******12"
    until("the hotline's BYE to the liaison", lambda: "BYE sip:" in phone.received())
