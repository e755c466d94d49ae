"""auth/: password hashing, token expiry and logout, the login lockout, the matrix, masking,
and the `hotline users` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from hotline.auth import passwords, tokens, users
from hotline.auth.audit import AuditWrites, entries
from hotline.auth.errors import LoginRefused, TokenRefused, UserError
from hotline.auth.gate import SESSION_COOKIE
from hotline.auth.http import router
from hotline.auth.masking import masked
from hotline.auth.models import AuthToken, User
from hotline.auth.roles import MATRIX, Perm, Role, allowed
from hotline.auth.settings import AuthSettings
from hotline.auth.tokens import Principal
from hotline.config.settings import Settings
from hotline.kernel.web import attach
from hotline.workorders.units import unit_problem
from tests.helpers.auth_tokens import bearer
from tests.helpers.workorders_env import migrated_engine, sample_units

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, auth=AuthSettings(max_failed_logins=3, lockout_minutes=10))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = migrated_engine(settings.var_dir)  # the same file as settings.db_url
    with Session(engine) as s:
        sample_units(s)
        users.add(s, "li", "agent", PASSWORD, agent_id="1001")
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    app = FastAPI()
    app.add_middleware(AuditWrites, engine=engine)
    attach(app, settings, engine)
    app.state.unit_problem = unit_problem
    app.include_router(router)
    return TestClient(app)


def test_passwords_are_salted_argon2_hashes() -> None:
    one, two = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert one.startswith("$argon2id$") and one != two and PASSWORD not in one
    assert passwords.verify(PASSWORD, one)[0]
    assert not passwords.verify("correct horse battery!", one)[0]
    assert not passwords.verify(PASSWORD, "")[0]  # no password set: never a match
    with pytest.raises(ValueError, match="at least 10 characters"):
        passwords.hash_password("short")


def test_login_gives_an_expiring_token_and_a_strict_cookie(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    r = client.post("/api/login", json={"name": "li", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    expires = datetime.fromisoformat(body["expires_at"])
    shift = datetime.now(UTC) + timedelta(hours=settings.auth.token_hours)
    assert abs((expires - shift).total_seconds()) < 60
    assert (body["user"], body["role"], body["agent_id"]) == ("li", "agent", "1001")
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={body['token']}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    with Session(engine) as s:
        [stored] = s.exec(select(AuthToken)).all()
    assert stored.token_sha256 == tokens.digest(body["token"]) != body["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert me["role"] == "agent" and "agents.control" in me["may"]


def test_an_expired_unknown_or_logged_out_token_is_refused_with_why(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as s:
        user = users.find(s, "li")
        token = tokens.issue(s, user, datetime.now(UTC) + timedelta(hours=1))
        s.commit()
        later = datetime.now(UTC) + timedelta(hours=2)
        with pytest.raises(TokenRefused, match="token expired at"):
            tokens.resolve(s, token, now=later)
    r = client.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["detail"]) == (401, "unknown token: log in again")
    assert r.headers["www-authenticate"] == "Bearer"
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=h).status_code == 200
    assert client.post("/api/logout", headers=h).status_code == 204
    r = client.get("/api/me", headers=h)
    assert (r.status_code, r.json()["detail"]) == (401, "this token was logged out: log in again")


def test_failed_logins_lock_the_user_and_are_audited(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    for _ in range(3):
        r = client.post("/api/login", json={"name": "li", "password": "wrong password"})
        assert (r.status_code, r.json()["detail"]) == (401, "wrong user name or password")
    # locked: even the right password is refused, with when to try again
    r = client.post("/api/login", json={"name": "li", "password": PASSWORD})
    assert r.status_code == 429 and "locked until" in r.json()["detail"]
    assert 500 < int(r.headers["retry-after"]) <= 600
    # the lock ends after lockout_minutes
    with Session(engine) as s:
        done = users.login(
            s, "li", PASSWORD, settings.auth, now=datetime.now(UTC) + timedelta(minutes=11)
        )
        assert done.token
    unknown = client.post("/api/login", json={"name": "nobody", "password": "whatever-it-is"})
    assert unknown.json()["detail"] == "wrong user name or password"  # no hint who exists
    rows = [(e.user, e.path, e.status_code) for e in reversed(entries(engine))]
    assert rows == [("li", "/api/login", 401)] * 3 + [
        ("li", "/api/login", 429),
        ("nobody", "/api/login", 401),
    ]
    assert all(
        "wrong password" not in e.detail and PASSWORD not in e.detail for e in entries(engine)
    )


def test_a_disabled_user_cannot_log_in_and_loses_their_tokens(
    client: TestClient, engine: Engine
) -> None:
    token = client.post("/api/login", json={"name": "li", "password": PASSWORD}).json()["token"]
    with Session(engine) as s:
        users.set_disabled(s, "li")
        s.commit()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = client.post("/api/login", json={"name": "li", "password": PASSWORD})
    assert r.status_code == 403 and "disabled" in r.json()["detail"]


def test_users_are_checked_when_added(engine: Engine) -> None:
    with Session(engine) as s:
        with pytest.raises(UserError, match="needs --agent-id"):
            users.add(s, "x", "agent", PASSWORD)
        with pytest.raises(UserError, match="needs --unit"):
            users.add(s, "x", "unit_staff", PASSWORD)
        with pytest.raises(UserError, match="no unit with code 'nope'"):
            users.add(s, "x", "unit_staff", PASSWORD, unit="nope", unit_problem=unit_problem)
        with pytest.raises(UserError, match="allowed: agent, supervisor, unit_staff"):
            users.add(s, "x", "root", PASSWORD)
        with pytest.raises(UserError, match="exists already"):
            users.add(s, "li", "auditor", PASSWORD)
        staff = users.add(s, "sw-li", "unit_staff", PASSWORD, unit="sw", unit_problem=unit_problem)
        assert (staff.role, staff.unit) == ("unit_staff", "sw")


def test_the_matrix_keeps_auditors_read_only_and_units_out_of_calls() -> None:
    writes = {
        Perm.ORDERS_CREATE,
        Perm.ORDERS_HANDLE,
        Perm.ORDERS_MANAGE,
        Perm.AGENT_CONTROL,
        Perm.SUPERVISE,
        Perm.BLOCKS_WRITE,
        Perm.USERS,
    }
    assert not MATRIX[Role.AUDITOR] & writes
    assert not MATRIX[Role.UNIT_STAFF] & {Perm.RECORDINGS, Perm.LIVE, Perm.CALLS_READ}
    assert MATRIX[Role.ADMIN] & writes == {Perm.USERS}
    assert not allowed("supervisor", Perm.USERS) and allowed("supervisor", Perm.SUPERVISE)
    assert not allowed("nobody", Perm.LIVE)


class Row(BaseModel):
    caller_number: str
    agent: str
    nested: list[dict[str, str]]


def test_numbers_are_masked_for_roles_without_full_numbers(settings: Settings) -> None:
    row = Row(
        caller_number="13900000001",
        agent="1001",
        nested=[{"contact": "13800138000", "caller": "anonymous"}],
    )
    auditor = Principal("shen", "auditor")
    hidden = masked([row], auditor, settings)[0]
    assert hidden.caller_number == "139******01" and hidden.agent == "1001"
    assert hidden.nested == [{"contact": "138******00", "caller": "anonymous"}]
    assert masked([row], Principal("wang", "supervisor"), settings)[0] == row
    # per role in the settings: auditors may be given full numbers
    open_ = settings.model_copy(
        update={"auth": AuthSettings(full_number_roles=["supervisor", "auditor"])}
    )
    assert masked(row, auditor, open_) == row


def test_the_users_cli(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.app.cli import app

    monkeypatch.setenv("HOTLINE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(settings.var_dir / "none.yaml"))
    (settings.var_dir / "none.yaml").write_text("{}\n")
    run = CliRunner().invoke
    added = run(
        app,
        ["users", "add", "shen", "--role", "auditor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    made = run(app, ["users", "add", "zhao", "--role", "admin", "--generate"])
    assert made.exit_code == 0 and "password (shown once): " in made.output
    generated = made.output.split("password (shown once): ")[1].strip()
    bad = run(
        app, ["users", "add", "wu", "--role", "agent", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert bad.exit_code == 2 and "needs --agent-id" in bad.output
    with Session(engine) as s:
        assert users.login(s, "zhao", generated, settings.auth).user.role == "admin"
        s.commit()
    listed = run(app, ["users", "list"]).output
    assert "shen" in listed and "auditor" in listed and "1001" in listed
    assert run(app, ["users", "disable", "shen"]).exit_code == 0
    assert "disabled" in run(app, ["users", "list"]).output
    new = "another long password"
    assert run(app, ["users", "passwd", "li", "--password-stdin"], input=new + "\n").exit_code == 0
    with Session(engine) as s:
        assert users.login(s, "li", new, settings.auth).user.name == "li"
        s.commit()
    machine = run(app, ["users", "token", "zhao", "--expires", "2000-01-01"])
    assert machine.exit_code == 2 and "a day after today" in machine.output
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    machine = run(app, ["users", "token", "zhao", "--expires", day, "--label", "crm"])
    assert machine.exit_code == 0
    with Session(engine) as s:
        who = tokens.resolve(s, machine.output.strip())
        row = s.exec(select(AuthToken).where(AuthToken.id == who.token_id)).one()
    assert (who.name, row.kind, row.expires_at.date().isoformat()) == ("zhao", "api", day)
    audit = run(app, ["users", "audit"]).output
    assert "hotline users add" in audit and "hotline users disable shen" in audit
    assert PASSWORD not in audit and generated not in audit and new not in audit
    with Session(engine) as s:
        assert all(PASSWORD not in u.password_hash for u in s.exec(select(User)))


def test_the_old_recording_users_are_imported_without_their_tokens(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.app.cli import app

    monkeypatch.setenv("HOTLINE_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(settings.var_dir / "none.yaml"))
    (settings.var_dir / "none.yaml").write_text("{}\n")
    old = settings.var_dir / "recording_users.json"
    rows = [
        {"name": "wang", "role": "supervisor", "agent_id": "", "token_sha256": "ab" * 32},
        {"name": "li", "role": "agent", "agent_id": "1001", "token_sha256": "cd" * 32},
    ]
    old.write_text(json.dumps({"users": rows}))
    out = CliRunner().invoke(app, ["users", "import-recording-users"])
    assert out.exit_code == 0, out.output
    assert "wang: added as supervisor" in out.output and "li: exists already" in out.output
    assert not old.exists() and old.with_suffix(".json.imported").exists()
    with Session(engine) as s:
        wang = users.find(s, "wang")
        assert (wang.role, wang.password_hash) == ("supervisor", "")
        assert s.exec(select(AuthToken)).all() == []  # no token carried over
        with pytest.raises(LoginRefused):
            users.login(s, "wang", "", settings.auth)


def test_an_admin_manages_users_over_http(client: TestClient, engine: Engine) -> None:
    admin = bearer(engine, "root", "admin")
    body = {"name": "shen", "role": "auditor", "password": PASSWORD}
    r = client.post("/api/users", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["role"] == "auditor"
    assert "password" not in r.text and "$argon2" not in r.text
    bad = client.post("/api/users", json={**body, "name": "x", "role": "root"}, headers=admin)
    assert bad.status_code == 422 and "allowed: agent" in bad.json()["detail"]
    agent = bearer(engine, "li", "agent")
    assert client.post("/api/users", json=body, headers=agent).status_code == 403
    new = {"password": "a brand new password"}
    assert client.post("/api/users/shen/password", json=new, headers=admin).is_success
    assert client.post("/api/login", json={"name": "shen", **new}).status_code == 200
    assert client.post("/api/users/shen/disable", headers=admin).json()["disabled"] is True
    assert client.post("/api/users/nobody/disable", headers=admin).status_code == 404
    names = [u["name"] for u in client.get("/api/users", headers=admin).json()]
    assert names == ["li", "root", "shen"]
