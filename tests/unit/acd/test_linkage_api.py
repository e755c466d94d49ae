"""POST /api/agents/{id}/emergency: who may bring a line in, and which call is moved."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.acd.linkage import queue_call
from hotline.acd.settings import AgentSettings
from hotline.asterisk.settings import AmiSettings
from hotline.config.settings import Settings
from tests.helpers.auth_tokens import settings_token


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        ami=AmiSettings(port=1),  # nothing answers: a request that got that far fails with 503
        agents=[
            AgentSettings(id="1003", skills=["report"], contact="sip:1003@127.0.0.1:5074"),
            AgentSettings(id="1004", skills=["report"], contact="sip:1004@127.0.0.1:5076"),
        ],
    )


def auth(settings: Settings, name: str, role: str, agent_id: str = "") -> dict[str, str]:
    return {"Authorization": f"Bearer {settings_token(settings, name, role, agent_id)}"}


def test_only_the_agent_or_a_supervisor_with_a_known_line(
    client: TestClient, settings: Settings
) -> None:
    url = "/api/agents/1003/emergency"
    assert client.post(url, json={"line": "119"}).status_code == 401
    other = auth(settings, "li", "agent", "1004")
    assert client.post(url, json={"line": "119"}, headers=other).status_code == 403
    own = auth(settings, "zhang", "agent", "1003")
    r = client.post(url, json={"line": "118"}, headers=own)
    assert r.status_code == 422
    assert r.json()["detail"] == {
        "detail": "unknown emergency line '118'; allowed: 110, 119, 120, 122",
        "error_id": "unknown_line",
    }
    r = client.post("/api/agents/9999/emergency", json={"line": "119"}, headers=auth(
        settings, "boss", "supervisor"))  # fmt: skip
    assert r.status_code == 404 and r.json()["detail"]["error_id"] == "unknown_agent"
    # a valid request reaches for Asterisk, which is not there
    r = client.post(url, json={"line": "119"}, headers=own)
    assert r.status_code == 503 and r.json()["detail"]["error_id"] == "ami_down"


def row(channel: str, uid: str, linkedid: str, bridge: str, app: str) -> dict[str, str]:
    return {
        "Event": "CoreShowChannel",
        "Channel": channel,
        "Uniqueid": uid,
        "Linkedid": linkedid,
        "BridgeId": bridge,
        "Application": app,
    }


def test_the_citizen_is_the_calls_first_channel_bridged_with_the_agent_in_queue() -> None:
    rows = [
        row("PJSIP/carrier-00000001", "1.1", "1.1", "b1", "Queue"),
        row("PJSIP/1003-00000002", "1.2", "1.1", "b1", "AppQueue"),
        row("PJSIP/carrier-00000003", "2.1", "2.1", "", "Queue"),  # another caller, waiting
        row("PJSIP/10030-00000004", "3.2", "3.1", "b3", "AppQueue"),  # not agent 1003
        row("PJSIP/carrier-00000005", "3.1", "3.1", "b3", "Queue"),
    ]
    assert queue_call(rows, "1003") == ("PJSIP/1003-00000002", "PJSIP/carrier-00000001")
    assert queue_call(rows, "1004") == ("", "")
    # in a conference already (not Queue()): not a queue call to move
    rows[0]["Application"] = "ConfBridge"
    assert queue_call(rows, "1003") == ("", "")
