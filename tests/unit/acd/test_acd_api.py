"""The agents' HTTP routes: who may act, and bad input refused before Asterisk is asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.acd.settings import AgentSettings
from hotline.asterisk.settings import AmiSettings
from hotline.config.settings import Settings
from tests.helpers.auth_tokens import settings_token


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        ami=AmiSettings(port=1),  # nothing answers: a request that got that far would fail with 503
        agents=[
            AgentSettings(id="1001", skills=["complaint"], contact="sip:1001@127.0.0.1:5070"),
            AgentSettings(id="1002", contact="sip:1002@127.0.0.1:5072"),
        ],
    )


def auth(settings: Settings, name: str, role: str, agent_id: str = "") -> dict[str, str]:
    return {"Authorization": f"Bearer {settings_token(settings, name, role, agent_id)}"}


def test_changing_a_state_needs_a_token(client: TestClient) -> None:
    assert client.post("/api/agents/1001/login").status_code == 401
    r = client.post("/api/agents/1001/login", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_an_agent_acts_on_themself_only(client: TestClient, settings: Settings) -> None:
    h = auth(settings, "li", "agent", "1002")
    r = client.post("/api/agents/1001/pause", json={"reason": "meal"}, headers=h)
    assert r.status_code == 403 and "1001 themself or a supervisor" in r.json()["detail"]
    r = client.post("/api/agents/1001/listen", json={"supervisor": "1002"}, headers=h)
    assert r.status_code == 403
    assert client.get("/api/agent-actions", headers=h).status_code == 403


def test_unknown_reason_says_what_is_allowed(client: TestClient, settings: Settings) -> None:
    h = auth(settings, "wang", "supervisor")
    r = client.post("/api/agents/1001/pause", json={"reason": "nap"}, headers=h)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["error_id"] == "unknown_reason"
    assert detail["detail"].endswith(
        "allowed: break (休息), meal (用餐), training (培训), meeting (会议), "
        "leader_duty (领导值班)"
    )


def test_unknown_agent_and_unknown_supervisor_phone(client: TestClient, settings: Settings) -> None:
    h = auth(settings, "wang", "supervisor")
    r = client.post("/api/agents/9999/logout", headers=h)
    assert r.status_code == 404
    assert r.json()["detail"] == {
        "detail": "unknown agent '9999'; known agents: 1001, 1002",
        "error_id": "unknown_agent",
    }
    r = client.post("/api/agents/1001/barge", json={"supervisor": "8888"}, headers=h)
    assert r.status_code == 404 and r.json()["detail"]["error_id"] == "unknown_supervisor"
    r = client.post("/api/agents/1001/whisper", json={"supervisor": "1001"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"]["error_id"] == "same_phone"


def test_the_audit_is_for_supervisors_and_auditors(client: TestClient, settings: Settings) -> None:
    r = client.get("/api/agent-actions", headers=auth(settings, "zhao", "auditor"))
    assert r.status_code == 200 and r.json() == []
