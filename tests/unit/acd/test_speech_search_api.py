"""GET /api/agent/search: the agent's token, the query's limits, what a hit shows."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.auth.gate import SESSION_COOKIE
from hotline.config.settings import Settings
from hotline.workorders.models import WorkOrder
from tests.helpers.auth_tokens import settings_token


def test_agents_search_orders_by_content(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    with Session(engine) as s:
        s.add(
            WorkOrder(
                number="20261125-000009",
                request_type="complaint",
                content="小区夜间施工噪音扰民",
                accepted_at=datetime.now(UTC),
            )
        )
        s.commit()
    assert client.get("/api/agent/search", params={"q": "施工"}).status_code == 401
    supervisor = {"Authorization": f"Bearer {settings_token(settings, 'zhang', 'supervisor')}"}
    refused = client.get("/api/agent/search", params={"q": "施工"}, headers=supervisor)
    assert refused.status_code == 403  # the search is on the agent's page
    agent = {"Authorization": f"Bearer {settings_token(settings, 'li', 'agent', '1001')}"}
    too_long = client.get("/api/agent/search", params={"q": "噪" * 101}, headers=agent)
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["query", "q"]
    [hit] = client.get("/api/agent/search", params={"q": "夜间 施工"}, headers=agent).json()
    assert hit["number"] == "20261125-000009" and hit["request_type_title"] == "投诉"
    assert hit["matched_in"] == "content" and "夜间施工" in hit["excerpt"]
    client.cookies.set(SESSION_COOKIE, agent["Authorization"].split()[-1])
    page = client.get("/agent").text
    assert 'id="search"' in page and "工单搜索" in page
