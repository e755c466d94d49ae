"""hotline status, and hotline down stopping what hotline up started and nothing else.

The session's hotline runs with Redis and MQTT on ports where nothing answered,
so `hotline up` had to start its own (conftest.OWN_SERVICE_PORTS).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from hotline.app.supervisor import pid_alive
from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import (
    AGENTS,
    HOTLINE,
    OWN_SERVICE_PORTS,
    REPO,
    SERVICES,
    Hotline,
    port_open,
)
from tests.helpers.sipp import Caller


def test_status_reports_every_component(hotline: Hotline) -> None:
    report = json.loads(hotline.cli("status", "--json", check=False))
    assert set(report["components"]) >= {
        "asterisk",
        "ami",
        "agi",
        "api",
        "database",
        "redis",
        "mqtt",
        "speech",
        "speech_model",
    }
    # the session has no speech model: an optional component, off, and the hotline is up
    down = {k: v for k, v in report["components"].items() if not v["ok"]}
    assert set(down) == {"speech_model"} and down["speech_model"]["optional"] is True, down
    assert report["ok"] is True
    # this install's own keys and topics (the tests' namespace), never another hotline's
    assert report["components"]["redis"]["detail"].endswith(" keys hotline:nanning-it:*")
    assert report["components"]["mqtt"]["detail"].endswith(" topics hotline/nanning-it/#")
    api = hotline.get("/api/status")
    assert api["components"]["bridge"]["ok"] is True


def test_a_second_up_says_it_runs_and_changes_nothing(hotline: Hotline) -> None:
    before = json.loads((hotline.var / "run" / "children.json").read_text())
    for args in (["up", "--detach"], ["up"]):  # scripts/run, again: idempotent
        out = hotline.cli(*args, timeout=30)
        assert "hotline already runs (pid " in out and "`hotline down` stops it" in out, out
    assert json.loads((hotline.var / "run" / "children.json").read_text()) == before
    assert json.loads(hotline.cli("status", "--json"))["ok"] is True


def test_down_stops_what_up_started_and_nothing_else(hotline: Hotline) -> None:
    children = json.loads((hotline.var / "run" / "children.json").read_text())
    names = {c["name"] for c in children}
    assert {"asterisk", "redis", "mosquitto"} <= names
    system_redis = port_open(6379)
    try:
        out = hotline.cli("down")
        assert "hotline" in out
        for c in children:
            assert not pid_alive(c["pid"], c["match"]), f"{c['name']} still runs"
        for port in (PORTS["sip"], PORTS["ami"], PORTS["api"], *OWN_SERVICE_PORTS.values()):
            assert not port_open(port), port
        assert port_open(6379) == system_redis  # a Redis it did not start is left alone
        assert "nothing was running" in hotline.cli("down")
    finally:
        hotline.cli("up", "--detach", "--services", SERVICES)
        for a in AGENTS:
            hotline.cli("agent", "login", str(a["id"]))


def test_down_lets_the_call_in_progress_end_and_refuses_new_ones(
    hotline: Hotline, tmp_path: Path
) -> None:
    talking = Caller(tmp_path / "a").start("13900001911", "3", talk_ms=12000)
    deadline = time.monotonic() + 60
    while "Up" not in hotline.asterisk("core show channels") and time.monotonic() < deadline:
        time.sleep(0.2)
    down = subprocess.Popen(
        [*HOTLINE, "down"], env=hotline.env, cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while "Value: 1" not in hotline.asterisk("database get hotline draining", check=False):
            assert time.monotonic() < deadline, "the drain did not start"
            time.sleep(0.2)
        refused = Caller(tmp_path / "b", port=5063, media_port=16200).call(
            "13900001912", "3", talk_ms=1000, timeout_s=30
        )
        assert not refused.ok and "503" in refused.errors, refused.errors[-2000:]
        assert down.poll() is None  # still waiting for the call in progress
        result = talking.wait(120)
        out, _ = down.communicate(timeout=120)
        assert down.returncode == 0 and "stopped: hotline" in out, out
    finally:
        if down.poll() is None:
            down.kill()
        hotline.cli("up", "--detach", "--services", SERVICES)
        for a in AGENTS:
            hotline.cli("agent", "login", str(a["id"]))
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900001911")  # written before the bridge stopped
    assert call["disposition"] == "answered" and call["hangup_cause_text"] == "Normal Clearing"
    assert call["talk_seconds"] >= 5  # 12 s from the key, less the menu and the ringing
    # the next `up` takes calls again
    assert "Value: 1" not in hotline.asterisk("database get hotline draining", check=False)
