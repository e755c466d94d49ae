"""hotline status, and hotline down stopping what hotline up started and nothing else.

The session's hotline runs with Redis and MQTT on ports where nothing answered,
so `hotline up` had to start its own (conftest.OWN_SERVICE_PORTS).
"""

from __future__ import annotations

import json

from hotline.app.supervisor import pid_alive
from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import AGENTS, OWN_SERVICE_PORTS, SERVICES, Hotline, port_open


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
