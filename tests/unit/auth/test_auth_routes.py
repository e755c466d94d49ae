"""Every route of the app needs a login, and every route checks its role: a route added
later without the gate fails here. Only the login (page and route) and /api/status are
open. Also: what each role reaches on a sample of routes, and the audit row of each write."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.websockets import WebSocketDisconnect

from hotline.app.api import create_app
from hotline.asterisk.settings import AmiSettings
from hotline.auth.audit import entries
from hotline.auth.gate import CLOSE_UNAUTHORISED, SESSION_COOKIE, Requirement
from hotline.config.settings import Settings
from hotline.kernel.settings import ServiceUrl
from tests.helpers.auth_tokens import bearer
from tests.helpers.workorders_env import migrated_engine, sample_units

PUBLIC = {("POST", "/api/login"), ("GET", "/login"), ("GET", "/api/status")}
# routes that take any logged-in user and check the role inside (auth/roles.py)
ANY_ROLE = {
    "/api/logout",
    "/api/me",
    "/openapi.json",
    "/docs",
    "/docs/{name}",
    "/api/workorders/{number}/{action}",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # nothing answers on AMI or Redis: a request that got past the gate fails with 503
    return Settings(var_dir=tmp_path, ami=AmiSettings(port=1), redis=ServiceUrl(port=1))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = migrated_engine(settings.var_dir)  # the same file as settings.db_url
    with Session(engine) as s:
        sample_units(s)
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Engine]]:
    """One app for the many role checks (a migrated database per test costs a second)."""
    var = tmp_path_factory.mktemp("roles")
    settings = Settings(var_dir=var, ami=AmiSettings(port=1), redis=ServiceUrl(port=1))
    engine = migrated_engine(settings.var_dir)  # the same file as settings.db_url
    with Session(engine) as s:
        sample_units(s)
        s.commit()
    yield create_app(settings, engine), engine
    engine.dispose()


def filled(path: str) -> str:
    """A path with each {parameter} given a plausible value."""
    values = {"linkedid": "1700000000.1", "agent_id": "1001", "number": "13900000001"}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def requirements(dependant: Dependant) -> list[Requirement]:
    found = []
    for dep in dependant.dependencies:
        call: Any = dep.call
        if isinstance(call, Requirement):
            found.append(call)
        elif isinstance(getattr(call, "requirement", None), Requirement):
            found.append(call.requirement)
        found += requirements(dep)
    return found


def every_route(app: FastAPI) -> list[tuple[str, RouteContext]]:
    """(full path, route) of every route of the app, included routers walked into."""
    out = [(str(c.path), c) for c in iter_route_contexts(app.routes)]
    assert out and all(path.startswith("/") for path, _ in out)
    return out


def test_no_route_is_reachable_without_a_token(app: FastAPI) -> None:
    client = TestClient(app)
    checked = 0
    for path, context in every_route(app):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                if (method, path) in PUBLIC:
                    continue
                r = client.request(method, filled(path), json={}, follow_redirects=False)
                if r.status_code == 303:  # a page: the browser goes to the login page
                    assert r.headers["location"].startswith("/login?next="), path
                else:
                    assert r.status_code == 401, (method, path, r.status_code, r.text)
                    assert "log in" in r.json()["detail"]
                checked += 1
        elif isinstance(route, APIWebSocketRoute):
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect(filled(path)) as ws,
            ):
                ws.receive_text()
            assert refused.value.code == CLOSE_UNAUTHORISED, path
            checked += 1
        else:
            raise AssertionError(f"{path} {route!r}: neither an API route nor a WebSocket route")
    assert checked > 50  # every router is in the app


def test_every_route_names_what_it_needs(app: FastAPI) -> None:
    for path, context in every_route(app):
        route = context.original_route
        if not isinstance(route, APIRoute) or {(m, path) for m in route.methods or ()} & PUBLIC:
            continue
        needs = requirements(route.dependant)
        assert needs, f"{path}: no auth dependency (auth.gate.require)"
        if path not in ANY_ROLE:
            assert any(n.perm is not None for n in needs), f"{path}: checks no role"


def test_the_open_routes_answer_without_a_token(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/login").status_code == 200
    assert "password" in client.get("/login").text
    assert client.post("/api/login", json={"name": "x", "password": "y"}).status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("agent", "GET", "/api/calls", False),
        ("agent", "POST", "/api/workorders", True),
        ("agent", "POST", "/api/blocks", False),
        ("agent", "GET", "/api/audit", False),
        ("supervisor", "GET", "/api/calls", True),
        ("supervisor", "GET", "/api/audit", False),
        ("supervisor", "POST", "/api/users", False),
        ("unit_staff", "GET", "/api/recordings", False),
        ("unit_staff", "GET", "/api/live/queues", False),
        ("unit_staff", "GET", "/api/calls", False),
        ("unit_staff", "GET", "/api/workorders", True),
        ("auditor", "GET", "/api/calls", True),
        ("auditor", "GET", "/api/audit", True),
        ("auditor", "POST", "/api/workorders", False),
        ("auditor", "POST", "/api/agents/1001/login", False),
        ("auditor", "DELETE", "/api/blocks/13900000001", False),
        ("admin", "GET", "/api/users", True),
        ("admin", "GET", "/api/audit", True),
        ("admin", "GET", "/api/recordings", False),
        ("admin", "POST", "/api/workorders/1/dispatch", False),
    ],
)
def test_what_each_role_reaches(
    shared: tuple[FastAPI, Engine], role: str, method: str, path: str, allowed: bool
) -> None:
    app, engine = shared
    extra = (
        {"agent_id": "1001"} if role == "agent" else {"unit": "sw"} if role == "unit_staff" else {}
    )
    client = TestClient(app, headers=bearer(engine, f"u-{role}", role, **extra))
    body = {"request_type": "complaint", "content": "噪音"} if path == "/api/workorders" else {}
    r = client.request(method, path, json=body)
    if allowed:
        assert r.status_code < 400, (role, path, r.status_code, r.text)
    else:
        assert r.status_code == 403, (role, path, r.status_code, r.text)
        assert f"role {role}" in r.json()["detail"]


def test_every_write_is_audited_allowed_or_refused(app: FastAPI, engine: Engine) -> None:
    anon = TestClient(app)
    auditor = TestClient(app, headers=bearer(engine, "shen", "auditor"))
    agent = TestClient(app, headers=bearer(engine, "li", "agent", agent_id="1001"))
    assert anon.post("/api/workorders", json={}).status_code == 401
    assert auditor.delete("/api/blocks/13900000001").status_code == 403
    made = agent.post("/api/workorders", json={"request_type": "help", "content": "停水"})
    assert made.status_code == 201
    assert anon.post("/api/login", json={"name": "li", "password": "secret-guess"}).status_code
    rows = [(e.user, e.role, e.method, e.path, e.object_id, e.status_code) for e in entries(engine)]
    assert rows == [
        ("li", "", "POST", "/api/login", "", 401),
        ("li", "agent", "POST", "/api/workorders", "", 201),
        ("shen", "auditor", "DELETE", "/api/blocks/{number}", "139******01", 403),
        ("", "", "POST", "/api/workorders", "", 401),
    ]
    everything = " ".join(str(e.model_dump()) for e in entries(engine))
    assert "13900000001" not in everything and "secret-guess" not in everything
    assert auditor.get("/api/audit").json()[0]["path"] == "/api/login"
    # reads are not audited (the recordings keep their own log of who heard what)
    assert auditor.get("/api/calls").status_code == 200
    assert len(entries(engine)) == 4


def test_unit_staff_see_and_handle_their_own_units_orders_only(
    app: FastAPI, engine: Engine
) -> None:
    sup = TestClient(app, headers=bearer(engine, "banzhang", "supervisor"))
    staff = TestClient(app, headers=bearer(engine, "sw-li", "unit_staff", unit="sw"))
    numbers = {}
    for unit in ("sw", "ga"):
        body = {"request_type": "help", "content": "停水", "contact": "13900000001"}
        number = sup.post("/api/workorders", json=body).json()["number"]
        assert sup.post(f"/api/workorders/{number}/dispatch", json={"unit": unit}).is_success
        numbers[unit] = number
    listed = staff.get("/api/workorders").json()
    assert [o["number"] for o in listed] == [numbers["sw"]]
    assert listed[0]["caller_number"] == "139******01"  # unit staff: masked by default
    assert staff.get(f"/api/workorders/{numbers['ga']}").status_code == 404
    assert staff.post(f"/api/workorders/{numbers['ga']}/sign", json={}).status_code == 404
    signed = staff.post(f"/api/workorders/{numbers['sw']}/sign", json={"actor": "someone"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["events"][-1]["actor"] == "sw-li"  # the token's user, not the body's
    refused = staff.post(f"/api/workorders/{numbers['sw']}/close", json={})
    assert refused.status_code == 403 and "orders.manage" in refused.json()["detail"]
    assert staff.get("/api/workorders/overdue").status_code == 403


def test_a_wallboard_feed_closes_when_its_login_ends(
    app: FastAPI, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hotline.auth.gate.RECHECK_SECONDS", 0.0)
    token = bearer(engine, "wall", "supervisor")["Authorization"].removeprefix("Bearer ")
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, token)
    with client.websocket_connect("/api/live/ws") as ws:
        assert "Redis" in ws.receive_json()["error"]  # nothing answers on Redis here
        logout = client.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
        assert logout.status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
            ws.receive_json()
    assert closed.value.code == CLOSE_UNAUTHORISED and "logged out" in closed.value.reason
