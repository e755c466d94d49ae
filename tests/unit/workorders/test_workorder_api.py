"""The work-order HTTP routes: a thin layer over the service (real clock, SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.config.settings import Settings
from hotline.kernel.web import attach
from hotline.workorders.http import router
from hotline.workorders.models import WorkOrder
from tests.helpers.auth_tokens import bearer
from tests.helpers.workorders_env import migrated_engine, sample_units


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_engine(tmp_path)
    with Session(engine) as s:
        sample_units(s)
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    app = FastAPI()
    attach(app, Settings(var_dir=tmp_path), engine)
    app.include_router(router)
    return TestClient(app, headers=bearer(engine, "banzhang", "supervisor"))


def test_lifecycle_over_http(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    r = client.post(
        "/api/workorders",
        json={"request_type": "complaint", "content": "噪音", "contact": "13800000001"},
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    r = client.post(f"/api/workorders/{number}/dispatch", json={"unit": "ga", "actor": "a1"})
    assert r.status_code == 200 and r.json()["lead_unit"] == "ga" and r.json()["due_at"]
    r = client.post(f"/api/workorders/{number}/reply", json={"text": "x"})
    assert r.status_code == 409
    assert r.json()["detail"]["error_id"] == "invalid_transition"
    assert (
        "is dispatched: cannot reply; allowed from dispatched: sign" in r.json()["detail"]["detail"]
    )
    for action, body in [("sign", {}), ("reply", {"text": "已处理"}), ("close", {})]:
        r = client.post(f"/api/workorders/{number}/{action}", json=body)
        assert r.status_code == 200, r.text
    r = client.post(f"/api/workorders/{number}/rate", json={"text": "3"})
    assert r.json()["satisfaction"] == "dissatisfied"
    [task] = client.get("/api/revisits").json()
    assert task["caller_number"] == "13800000001"
    events = client.get(f"/api/workorders/{number}").json()["events"]
    assert [e["action"] for e in events] == ["create", "dispatch", "sign", "reply", "close", "rate"]
    assert (tmp_path / "sms" / "outbox.jsonl").exists()
    assert client.post(f"/api/workorders/{number}/fly", json={}).status_code == 404
    assert client.get("/api/workorders/19990101-000001").status_code == 404


def test_overdue_lists_with_cards(client: TestClient, engine: Engine) -> None:
    number = client.post("/api/workorders", json={"request_type": "help"}).json()["number"]
    client.post(f"/api/workorders/{number}/dispatch", json={"unit": "zj"})
    assert client.get("/api/workorders/overdue").json() == []  # not yet due
    with Session(engine) as s:
        order = s.exec(select(WorkOrder).where(WorkOrder.number == number)).one()
        order.due_at = datetime.now(UTC) - timedelta(hours=2)
        s.add(order)
        s.commit()
    [row] = client.get("/api/workorders/overdue").json()
    assert row["number"] == number and row["unit"] == "zj" and row["cards"] == ["yellow"]


def test_confidential_order_is_masked(client: TestClient) -> None:
    r = client.post(
        "/api/workorders",
        json={
            "request_type": "report",
            "content": "举报内容",
            "contact": "139",
            "confidential": True,
        },
    )
    body = r.json()
    assert body["content"] == body["contact"] == "(保密)"


def test_knowledge_over_http(client: TestClient) -> None:
    q = client.post("/api/knowledge/questions", json={"unit": "sw", "question": "停水怎么查询？"})
    assert q.status_code == 201
    a = client.post(
        f"/api/knowledge/questions/{q.json()['id']}/answer",
        json={"unit": "sw", "text": "关注水务局公众号"},
    )
    assert a.status_code == 201
    assert [e["title"] for e in client.get("/api/knowledge", params={"q": "停水"}).json()] == [
        "停水怎么查询？"
    ]
    r = client.get(
        "/api/analysis/counts", params={"start": "2020-01-01", "end": "2020-01-02", "by": "x"}
    )
    assert r.status_code == 409 and "allowed: type, topic" in r.json()["detail"]["detail"]


def test_an_emergency_order_signed_late_shows_by_how_much(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    duty = client  # the duty calls' route is one of the work orders' package
    number = client.post(
        "/api/workorders", json={"request_type": "help", "emergency": True}
    ).json()["number"]
    client.post(f"/api/workorders/{number}/dispatch", json={"unit": "ga"})
    assert client.get(f"/api/workorders/{number}").json()["sign_late_minutes"] is None
    with Session(engine) as s:  # as if dispatched 45 minutes ago: 15 minutes past the 30
        order = s.exec(select(WorkOrder).where(WorkOrder.number == number)).one()
        assert order.sign_due_at is not None
        order.sign_due_at -= timedelta(minutes=45)
        s.add(order)
        s.commit()
    client.post(f"/api/workorders/{number}/sign", json={"actor": "ga-staff"})
    body = client.get(f"/api/workorders/{number}").json()
    assert body["sign_late_minutes"] == 16 and body["signed_at"]  # 15 min and moments: up
    assert duty.get("/api/duty-calls", params={"order": number}).json() == []  # no call yet
    assert duty.get("/api/duty-calls", params={"order": "19990101-000001"}).status_code == 404
