"""The revisit call (人工回访, art. 27.3) through the real Asterisk: a dissatisfied
rating creates a revisit task; `hotline orders revisit-call` rings the agent's SIPp
phone, then Dial() calls the citizen's SIPp phone out through the carrier trunk; the
result lands on the task and in the order's audit trail."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.session_hotline import HOTLINE, REPO, Hotline
from tests.helpers.sipp import AgentPhone

CITIZEN_PORT = 5090


def post(hotline: Hotline, path: str, body: dict[str, Any]) -> Any:
    r = hotline.post(path, body)
    assert r.status_code < 300, r.text
    return r.json()


def dissatisfied_order(hotline: Hotline, contact: str) -> tuple[str, int]:
    order = post(hotline, "/api/workorders", {"request_type": "help", "contact": contact})
    number = order["number"]
    post(hotline, f"/api/workorders/{number}/dispatch", {"unit": "sw", "actor": "1002"})
    post(hotline, f"/api/workorders/{number}/sign", {"actor": "sw-staff"})
    post(hotline, f"/api/workorders/{number}/reply", {"actor": "sw-staff", "text": "已抢修"})
    post(hotline, f"/api/workorders/{number}/close", {"actor": "1002"})
    post(hotline, f"/api/workorders/{number}/rate", {"text": "3"})
    [task] = [t for t in hotline.get("/api/revisits") if t["caller_number"] == contact]
    return number, int(task["id"])


def revisit_call(hotline: Hotline, tmp_path: Path, task_id: int, port: int) -> str:
    rules = tmp_path / "workorders.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "revisit": {
                    "citizen_dial": f"PJSIP/carrier/sip:{{number}}@127.0.0.1:{port}",
                    "ring_seconds": 10,
                    "agent_answer_seconds": 10,
                    "max_talk_seconds": 3,
                }
            }
        )
    )
    out = subprocess.run(
        [*HOTLINE, "orders", "revisit-call", str(task_id), "--agent", "1002"],
        env={**hotline.env, "HOTLINE_WORKORDERS_FILE": str(rules)},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_revisit_call_reaches_the_citizen(hotline: Hotline, tmp_path: Path) -> None:
    hotline.cli("orders", "unit-add", "sw", "市水务局", "--sms", "13700000003")
    citizen = AgentPhone(tmp_path, CITIZEN_PORT, 17200)
    citizen.start()
    try:
        number, task_id = dissatisfied_order(hotline, "13800000077")
        out = revisit_call(hotline, tmp_path, task_id, CITIZEN_PORT)
    finally:
        citizen.stop()
    # ANSWER can only come from the citizen's phone (a dead number gives no ANSWER: below)
    assert f"revisit task {task_id}: reached (DialStatus ANSWER)" in out, out
    assert all(t["id"] != task_id for t in hotline.get("/api/revisits"))  # done
    events = hotline.get(f"/api/workorders/{number}")["events"]
    last = events[-1]
    assert last["action"] == "revisit" and last["reason"].startswith("reached")
    assert last["actor"] == "1002"


def test_revisit_call_to_a_dead_number_stays_open(hotline: Hotline, tmp_path: Path) -> None:
    hotline.cli("orders", "unit-add", "sw", "市水务局", check=False)
    number, task_id = dissatisfied_order(hotline, "13800000078")
    out = revisit_call(hotline, tmp_path, task_id, 5093)  # nothing listens there
    assert f"revisit task {task_id}: " in out and ": reached" not in out, out
    [task] = [t for t in hotline.get("/api/revisits") if t["id"] == task_id]
    assert task["status"] == "failed" and task["result"] in ("no_answer", "failed", "busy")
    assert hotline.get(f"/api/workorders/{number}")["events"][-1]["action"] == "revisit"
