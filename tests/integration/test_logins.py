"""Logging in over HTTP against the running API: the token opens what the role may, the
audit log has each write and login, and a logged-out token is refused. No calls placed."""

from __future__ import annotations

import json

import httpx

from tests.helpers.session_hotline import Hotline, user_password


def test_login_token_roles_audit_and_logout(hotline: Hotline) -> None:
    token = hotline.user("it-agent-1002", "agent", "1002")
    agent = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{hotline.api}/api/me", headers=agent, timeout=10).json()
    assert (me["user"], me["role"], me["agent_id"]) == ("it-agent-1002", "agent", "1002")
    # an agent reads agents' states, not the call records, and acts on themself only
    assert httpx.get(f"{hotline.api}/api/agents/1002", headers=agent, timeout=10).is_success
    calls = httpx.get(f"{hotline.api}/api/calls", headers=agent, timeout=10)
    assert calls.status_code == 403 and "calls.read" in calls.json()["detail"]
    other = httpx.post(f"{hotline.api}/api/agents/1001/unpause", headers=agent, timeout=10)
    assert other.status_code == 403
    wrong = httpx.post(
        f"{hotline.api}/api/login", json={"name": "it-agent-1002", "password": "x"}, timeout=10
    )
    assert wrong.status_code == 401
    # an auditor reads the audit log: the refused write and the failed login are in it
    auditor = {"Authorization": f"Bearer {hotline.user('it-auditor', 'auditor')}"}
    rows = httpx.get(f"{hotline.api}/api/audit", headers=auditor, timeout=10).json()
    seen = {(r["user"], r["method"], r["path"], r["object_id"], r["status_code"]) for r in rows}
    assert ("it-agent-1002", "POST", "/api/agents/{agent_id}/unpause", "1001", 403) in seen
    assert ("it-agent-1002", "POST", "/api/login", "", 401) in seen
    assert user_password("it-agent-1002") not in json.dumps(rows) and token not in json.dumps(rows)
    cli = hotline.cli("users", "audit", "--user", "it-agent-1002")
    assert "/api/agents/{agent_id}/unpause 1001 -> 403" in cli
    # logged out: the same token is refused, and says why
    assert httpx.post(f"{hotline.api}/api/logout", headers=agent, timeout=10).status_code == 204
    gone = httpx.get(f"{hotline.api}/api/me", headers=agent, timeout=10)
    assert gone.status_code == 401 and "logged out" in gone.json()["detail"]
    # only the status stays open
    assert httpx.get(f"{hotline.api}/api/status", timeout=10).is_success
    assert httpx.get(f"{hotline.api}/api/calls", timeout=10).status_code == 401
