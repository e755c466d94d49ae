"""Recordings API: roles, masking, HTTP ranges, and an audit row for every attempt."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.kernel.web import attach
from hotline.recordings import worker
from hotline.recordings.http import router
from tests.helpers.auth_tokens import settings_token
from tests.helpers.recordings_env import Env, add_call, make_env


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = make_env(tmp_path)
    add_call(e, "1700000200.1", seconds=5, agent="1001", caller="13800138001")
    add_call(e, "1700000200.2", seconds=4, agent="1002", caller="13800138002", queue="help")
    worker.process_pending(e.settings, e.engine)
    return e


@pytest.fixture
def client(env: Env) -> TestClient:
    app = FastAPI()
    attach(app, env.settings, env.engine)
    app.include_router(router)
    return TestClient(app)


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_agent_refused_on_another_agents_call_auditor_allowed_both_audited(
    env: Env, client: TestClient
) -> None:
    agent = settings_token(env.settings, "zhang", "agent", "1002")
    auditor = settings_token(env.settings, "li", "auditor")
    refused = client.get("/api/recordings/1700000200.1/audio", headers=bearer(agent))
    assert refused.status_code == 403
    played = client.get("/api/recordings/1700000200.1/audio", headers=bearer(auditor))
    assert played.status_code == 200 and played.content[:4] == b"RIFF"

    log = client.get("/api/recordings/audit", headers=bearer(auditor)).json()
    rows = [(a["user"], a["role"], a["linkedid"], a["action"], a["allowed"]) for a in log]
    assert ("zhang", "agent", "1700000200.1", "play", False) in rows
    assert ("li", "auditor", "1700000200.1", "play", True) in rows
    assert all(a["remote"] == "testclient" and a["at"] for a in log)
    assert client.get("/api/recordings/audit", headers=bearer(agent)).status_code == 403


def test_no_or_bad_token_is_401_and_audited(env: Env, client: TestClient) -> None:
    auditor = settings_token(env.settings, "li", "auditor")
    assert client.get("/api/recordings/1700000200.1/download").status_code == 401
    bad = client.get("/api/recordings/1700000200.1/download", headers=bearer("guess"))
    assert bad.status_code == 401
    log = client.get("/api/recordings/audit", headers=bearer(auditor)).json()
    assert [a["user"] for a in log if a["status_code"] == 401] == ["(no valid token)"] * 2


def test_range_request_on_download(env: Env, client: TestClient) -> None:
    sup = settings_token(env.settings, "wang", "supervisor")
    whole = client.get("/api/recordings/1700000200.2/download", headers=bearer(sup))
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/x-gsm"
    part = client.get(
        "/api/recordings/1700000200.2/download", headers={**bearer(sup), "Range": "bytes=33-65"}
    )
    assert part.status_code == 206
    assert part.content == whole.content[33:66]
    assert part.headers["content-range"] == f"bytes 33-65/{len(whole.content)}"


def test_search_masks_numbers_and_limits_agents(env: Env, client: TestClient) -> None:
    agent = settings_token(env.settings, "zhang", "agent", "1002")
    sup = settings_token(env.settings, "wang", "supervisor")
    mine = client.get("/api/recordings", headers=bearer(agent)).json()
    assert [(r["linkedid"], r["caller_number"]) for r in mine] == [("1700000200.2", "138******02")]
    # asking for another agent's calls still returns only one's own
    assert client.get("/api/recordings?agent=1001", headers=bearer(agent)).json() == []
    assert (
        client.get("/api/recordings?caller=13800138001", headers=bearer(agent)).status_code == 403
    )

    found = client.get("/api/recordings?caller=13800138001", headers=bearer(sup)).json()
    assert [(r["linkedid"], r["caller_number"]) for r in found] == [("1700000200.1", "13800138001")]
    by_queue = client.get("/api/recordings?queue=help", headers=bearer(sup)).json()
    assert [r["linkedid"] for r in by_queue] == ["1700000200.2"]
    assert (
        client.get("/api/recordings?since=2000-01-01&until=2000-12-31", headers=bearer(sup)).json()
        == []
    )
