"""The emergency button (紧急标记) through the real Asterisk: two callers wait in the
general queue with nobody logged in; a supervisor marks the second one as an emergency
matter, and app_queue puts it first; the wallboard's list and the alarm show it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.helpers.alarms import AlarmListener
from tests.helpers.ivr_calls import walk
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import CallInProgress
from tests.helpers.waiting import until


def in_line(hotline: Hotline) -> list[str]:
    """The callers' numbers in the general queue, first first (app_queue's own order)."""
    out = hotline.cli("asterisk", "cli", "queue show hotline-general")
    callers = out.split("Callers:", 1)[1] if "Callers:" in out else ""
    return re.findall(r"\d+\. PJSIP/carrier-\w+ \(wait: [^)]*, prio: \d+\)", callers)


def wait_in_line(tmp_path: Path, number: str, port: int, media: int) -> CallInProgress:
    return CallInProgress(
        lambda: walk(tmp_path, number, [(1500, "0")], port=port, media_port=media, talk_ms=20_000)
    )


def token(hotline: Hotline, name: str, role: str) -> str:
    return hotline.user(name, role)


def test_a_marked_waiting_caller_goes_first_and_supervisors_see_it(
    hotline: Hotline, tone_ivr: Path, no_agents: None, tmp_path: Path
) -> None:
    first, second = "13900007201", "13900007202"
    calls: list[CallInProgress] = []
    # SIPp takes the media port and the two above it
    for number, port, media in ((first, 5065, 16500), (second, 5067, 16600)):
        calls.append(wait_in_line(tmp_path, number, port, media))
        time.sleep(1.5)  # the second joins after the first
    waiting = until("both in line", lambda: len(w := in_line(hotline)) == 2 and w)
    assert all("prio: 0" in w for w in waiting), waiting

    live = until(
        "the live numbers of both",
        lambda: len(q := hotline.get("/api/live/queues/general")["callers"]) == 2 and q,
    )
    marked = next(c for c in live if c["caller"] == "139******02")
    tok = token(hotline, "zhaozr", "supervisor")
    with AlarmListener() as alarms:
        r = httpx.post(
            f"{hotline.api}/api/calls/{marked['call']}/emergency",
            headers={"Authorization": f"Bearer {tok}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        alarm = alarms.wait_for("emergency_call", 15, linkedid=marked["call"])
    body = r.json()
    assert (body["caller"], body["queue"], body["raised"], body["by"]) == (
        "139******02",
        "general",
        True,
        "zhaozr",
    )
    assert "139******02" in alarm["message"] and "13900007202" not in alarm["message"]

    # app_queue's own order: the marked caller first, with the emergency priority
    now = in_line(hotline)
    assert len(now) == 2 and "prio: 10" in now[0] and "prio: 0" in now[1], now
    shown = hotline.get("/api/live/emergencies")
    assert shown[0]["linkedid"] == marked["call"] and shown[0]["raised"] is True
    # an agent without a token may not; a call that does not exist is named
    assert httpx.post(f"{hotline.api}/api/calls/{marked['call']}/emergency").status_code == 401
    gone = httpx.post(
        f"{hotline.api}/api/calls/1.1/emergency", headers={"Authorization": f"Bearer {tok}"}
    )
    assert gone.status_code == 409 and gone.json()["detail"]["error_id"] == "no_live_call"
    for call in calls:
        assert call.wait(60).ok
