"""Blocked numbers (art. 21.4): expiry, removal, the audit trail, and the API's rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.agi import blocks
from hotline.agi.errors import BlockError
from hotline.agi.http import router
from hotline.config.settings import Settings
from hotline.kernel.db import make_engine, upgrade
from hotline.kernel.web import attach
from tests.helpers.auth_tokens import settings_token

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    return make_engine(url)


def test_block_expires(engine: Engine) -> None:
    with Session(engine) as s:
        blocks.add_block(
            s,
            "13800000001",
            reason="辱骂",
            actor="boss",
            expires_at=NOW + timedelta(days=1),
            now=NOW,
        )
        s.commit()
        assert blocks.active_block(s, "13800000001", NOW + timedelta(hours=23)) is not None
        assert blocks.active_block(s, "13800000001", NOW + timedelta(days=2)) is None
        assert blocks.list_blocks(s, now=NOW + timedelta(days=2)) == []
        assert len(blocks.list_blocks(s, include_inactive=True, now=NOW)) == 1


def test_block_remove_and_audit(engine: Engine) -> None:
    with Session(engine) as s:
        blocks.add_block(s, "13800000002", reason="骚扰", actor="boss", now=NOW)
        blocks.log_refused_call(s, "13800000002", "1700000000.5")
        blocks.remove_block(s, "13800000002", actor="deputy", now=NOW)
        s.commit()
        assert blocks.active_block(s, "13800000002") is None
        trail = [(a.action, a.actor, a.detail) for a in blocks.audit(s, "13800000002")]
    assert trail == [
        ("added", "boss", "骚扰"),
        ("refused-call", "ivr", "1700000000.5"),
        ("removed", "deputy", ""),
    ]


@pytest.mark.parametrize(
    ("number", "reason", "actor", "message"),
    [
        ("1380000000x", "r", "a", "not a phone number"),
        ("13800000003", " ", "a", "a reason is required"),
        ("13800000003", "r", "", "supervisor's name is required"),
    ],
)
def test_bad_block_requests(
    engine: Engine, number: str, reason: str, actor: str, message: str
) -> None:
    with Session(engine) as s, pytest.raises(BlockError, match=message):
        blocks.add_block(s, number, reason=reason, actor=actor)


def test_no_double_block_and_no_past_expiry(engine: Engine) -> None:
    with Session(engine) as s:
        blocks.add_block(s, "13800000004", reason="r", actor="a", now=NOW)
        with pytest.raises(BlockError, match="already blocked"):
            blocks.add_block(s, "13800000004", reason="r", actor="a", now=NOW)
        with pytest.raises(BlockError, match="in the future"):
            blocks.add_block(s, "13800000005", reason="r", actor="a", expires_at=NOW, now=NOW)
        with pytest.raises(BlockError, match="is not blocked"):
            blocks.remove_block(s, "13800000006", actor="a")


def test_api_needs_a_supervisor(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    supervisor = settings_token(settings, "zhang", "supervisor")
    auditor = settings_token(settings, "li", "auditor")
    app = FastAPI()
    attach(app, settings, engine)
    app.include_router(router)
    client = TestClient(app)
    body = {"number": "13800000007", "reason": "辱骂话务员"}

    assert client.post("/api/blocks", json=body).status_code == 401
    as_auditor = {"Authorization": f"Bearer {auditor}"}
    assert client.post("/api/blocks", json=body, headers=as_auditor).status_code == 403

    auth = {"Authorization": f"Bearer {supervisor}"}
    created = client.post("/api/blocks", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "zhang"
    assert client.post("/api/blocks", json=body, headers=auth).status_code == 409
    listed = client.get("/api/blocks", headers=auth).json()
    assert [b["number"] for b in listed] == ["13800000007"]
    naive = {**body, "number": "13800000008", "expires_at": "2027-01-01T00:00:00"}
    assert client.post("/api/blocks", json=naive, headers=auth).status_code == 422

    removed = client.delete("/api/blocks/13800000007", headers=auth)
    assert removed.status_code == 200 and removed.json()["removed_by"] == "zhang"
    assert client.delete("/api/blocks/13800000007", headers=auth).status_code == 404
    trail = client.get("/api/blocks/audit", headers=auth).json()
    assert [(a["action"], a["actor"]) for a in trail] == [("added", "zhang"), ("removed", "zhang")]
