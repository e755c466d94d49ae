"""The agent page's routes: who may open it, the form's field errors, the order it creates."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.websockets import WebSocketDisconnect

from hotline.acd.agent_feed import caller_history
from hotline.acd.agent_page import router
from hotline.acd.settings import AgentSettings
from hotline.auth.gate import CLOSE_FORBIDDEN, CLOSE_UNAUTHORISED, SESSION_COOKIE
from hotline.calls.models import CallRecord
from hotline.config.settings import Settings
from hotline.kernel.settings import ServiceUrl
from hotline.kernel.web import attach
from hotline.workorders.models import WorkOrder
from tests.helpers.auth_tokens import settings_token
from tests.helpers.daemons import Daemon
from tests.helpers.workorders_env import migrated_engine

NUMBER = "13900000777"


def test_the_page_sends_a_browser_without_a_login_to_the_login_page(
    client: TestClient, settings: Settings
) -> None:
    for path in ("/agent", "/agent/agent.js"):
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, f"/login?next={path}")
    client.cookies.set(SESSION_COOKIE, "wrong")
    assert client.get("/agent", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, settings_token(settings, "wang", "auditor"))
    assert client.get("/agent").status_code == 403  # an auditor has no agent page
    client.cookies.set(SESSION_COOKIE, settings_token(settings, "li", "agent", "1001"))
    r = client.get("/agent")
    assert r.status_code == 200 and "坐席工作台" in r.text
    assert client.get("/agent/agent.js").status_code == 200
    assert client.get("/agent/secrets.env").status_code == 404
    # an agent opens their own page only; a supervisor any agent's, read-only
    assert client.get("/agent?agent=1002").status_code == 403
    client.cookies.set(SESSION_COOKIE, settings_token(settings, "zhang", "supervisor"))
    assert client.get("/agent?agent=1001").status_code == 200
    assert "name the agent" in client.get("/agent").text


def test_the_feed_refuses_a_missing_or_wrong_token_with_its_close_code(
    client: TestClient, settings: Settings
) -> None:
    auditor = settings_token(settings, "wang", "auditor")
    agent = settings_token(settings, "li", "agent", "1001")
    cases = [
        ("", "", CLOSE_UNAUTHORISED),
        ("wrong", "", CLOSE_UNAUTHORISED),
        (auditor, "", CLOSE_FORBIDDEN),
        (agent, "?agent=1002", CLOSE_FORBIDDEN),  # another agent's feed
    ]
    for token, query, code in cases:
        client.cookies.set(SESSION_COOKIE, token)
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(f"/api/agent/ws{query}") as ws,
        ):
            ws.receive_text()
        assert refused.value.code == code, (token, query)
    # a page of another site may not open the feed with our cookie
    client.cookies.set(SESSION_COOKIE, agent)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/api/agent/ws", headers={"Origin": "http://evil.example"}) as ws,
    ):
        ws.receive_text()
    assert refused.value.code == CLOSE_FORBIDDEN


def test_the_form_needs_an_agent_token(client: TestClient, settings: Settings) -> None:
    body = {"request_type": "complaint", "content": "噪音"}
    assert client.post("/api/agent/workorders", json=body).status_code == 401
    supervisor = {"Authorization": f"Bearer {settings_token(settings, 'zhang', 'supervisor')}"}
    assert client.post("/api/agent/workorders", json=body, headers=supervisor).status_code == 403


def test_a_bad_form_names_each_field_and_creates_nothing(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    h = {"Authorization": f"Bearer {settings_token(settings, 'li', 'agent', '1001')}"}
    bad = {
        "request_type": "complain",
        "channel": "fax",
        "content": "  ",
        "district": "区" * 41,
        "topics": ["噪音扰民", "x" * 40],
    }
    r = client.post("/api/agent/workorders", json=bad, headers=h)
    assert r.status_code == 422
    fields = {e["loc"][-1]: e["msg"] for e in r.json()["detail"]}
    assert set(fields) == {"request_type", "channel", "content", "district", "topics"}
    assert "请选择诉求类型" in fields["request_type"] and "请填写诉求内容" in fields["content"]
    with Session(engine) as s:
        assert s.exec(select(WorkOrder)).all() == []


def test_the_form_creates_an_accepted_order_linked_to_the_call(
    client: TestClient, settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    h = {"Authorization": f"Bearer {settings_token(settings, 'li', 'agent', '1001')}"}
    form = {
        "linkedid": "1795531175.2",
        "request_type": "complaint",
        "channel": "phone",
        "caller_number": NUMBER,
        "contact": NUMBER,
        "citizen_name": "王女士",
        "district": "青秀区",
        "address": "民族大道100号",
        "content": "夜间施工噪音",
        "topics": ["噪音扰民", "夜间施工"],
    }
    with caplog.at_level(logging.INFO):
        r = client.post("/api/agent/workorders", json=form, headers=h)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    with Session(engine) as s:
        o = s.exec(select(WorkOrder).where(WorkOrder.number == number)).one()
    assert (o.status, o.request_type, o.channel, o.agent) == (
        "accepted",
        "complaint",
        "phone",
        "1001",
    )
    assert (o.caller_number, o.linkedid, o.citizen_name, o.district) == (
        NUMBER,
        "1795531175.2",
        "王女士",
        "青秀区",
    )
    assert o.topic == "噪音扰民、夜间施工" and "民族大道100号" in o.content
    assert NUMBER not in caplog.text and "139******77" in caplog.text


def test_the_history_has_the_callers_calls_and_open_orders_only(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    h = {"Authorization": f"Bearer {settings_token(settings, 'li', 'agent', '1001')}"}
    for content, confidential in (("漏水", False), ("举报内容", True)):
        body = {"request_type": "help", "caller_number": NUMBER, "content": content}
        r = client.post(
            "/api/agent/workorders", json=body | {"confidential": confidential}, headers=h
        )
        assert r.status_code == 201
    now = datetime.now(UTC)
    with Session(engine) as s:
        for i, number in enumerate((NUMBER, "13900000778")):
            s.add(
                CallRecord(
                    linkedid=f"L{i}",
                    tenant="nanning",
                    caller_number=number,
                    started_at=now - timedelta(hours=1),
                    ended_at=now,
                    disposition="answered",
                )
            )
        s.commit()
    calls, orders = caller_history(engine, NUMBER)
    assert [c.linkedid for c in calls] == ["L0"]
    assert sorted(o.content for o in orders) == ["(保密)", "漏水"]
    assert caller_history(engine, "") == ([], [])


def test_a_ring_published_by_the_acd_service_pops_up_on_that_agents_feed_only(
    tmp_path: Path, redis_server: Daemon
) -> None:
    import asyncio

    from hotline.acd.agent_service import AgentService
    from hotline.acd.screen_pop import Ring
    from hotline.asterisk.ami import AmiClient

    settings = Settings(
        var_dir=tmp_path,
        redis=ServiceUrl(port=redis_server.port),
        agents=[
            AgentSettings(id="1001", name="李坐席", contact="sip:1001@127.0.0.1:5070"),
            AgentSettings(id="1002", contact="sip:1002@127.0.0.1:5072"),
        ],
    )
    engine = migrated_engine(settings.var_dir)  # settings.db_url's file
    app = FastAPI()
    attach(app, settings, engine)
    app.include_router(router)
    client = TestClient(app)
    h = {"Authorization": f"Bearer {settings_token(settings, 'li', 'agent', '1001')}"}
    body = {"request_type": "complaint", "caller_number": NUMBER, "content": "夜间施工噪音"}
    earlier = client.post("/api/agent/workorders", json=body, headers=h).json()["number"]
    token = settings_token(settings, "li", "agent", "1001")
    now = datetime.now(UTC)

    def ring_for(agent: str) -> Ring:
        return Ring(agent, f"L-{agent}", NUMBER, "", "complaint", "3", "complaint", now, now)

    async def publish() -> None:
        service = AgentService(settings, engine, AmiClient(settings.ami))
        await service._ring(ring_for("1002"))  # another agent's phone: not on this feed
        await service._ring(ring_for("1001"))
        await service.redis.aclose()

    client.cookies.set(SESSION_COOKIE, token)
    with client.websocket_connect("/api/agent/ws") as ws:
        hello = json.loads(ws.receive_text())
        assert (hello["kind"], hello["agent"], hello["name"]) == ("hello", "1001", "李坐席")
        assert json.loads(ws.receive_text())["kind"] == "state"
        asyncio.run(publish())
        pop = json.loads(ws.receive_text())
    assert (pop["kind"], pop["agent"], pop["linkedid"], pop["caller"]) == (
        "pop",
        "1001",
        "L-1001",
        NUMBER,
    )
    assert [o["number"] for o in pop["open_orders"]] == [earlier]
    engine.dispose()
