"""Who may hear recordings: API tokens per user, in var/recording_users.json (0600).

Only a SHA-256 of each token is stored; the token is shown once, at `hotline recordings
user add`. Roles: agent (their own calls), supervisor and auditor (every call).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from config.settings import AGENT_ID_RE, RECORDING_ROLES, Settings

USER_RE = r"^[A-Za-z0-9_.@-]{1,64}$"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    agent_id: str = ""  # for role agent: whose calls are theirs
    token_sha256: str = ""


def users_file(settings: Settings) -> Path:
    return settings.var_dir / "recording_users.json"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_users(settings: Settings) -> list[User]:
    path = users_file(settings)
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())["users"]
        return [User(**r) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a users file ({exc}); fix or remove it") from exc


def _save(settings: Settings, users: list[User]) -> None:
    path = users_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"users": [asdict(u) for u in users]}, fh, indent=1)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def add_user(settings: Settings, name: str, role: str, agent_id: str = "") -> str:
    """Add or replace a user; return their new token (shown once, never stored)."""
    if not re.match(USER_RE, name):
        raise ValueError(f"user name {name!r}: letters, digits and _.@- only, 1-64")
    if role not in RECORDING_ROLES:
        raise ValueError(f"role {role!r}; allowed: {', '.join(RECORDING_ROLES)}")
    if role == "agent" and not re.match(AGENT_ID_RE, agent_id):
        raise ValueError("an agent user needs --agent-id (the agent's id, e.g. 1001)")
    token = secrets.token_urlsafe(32)
    users = [u for u in load_users(settings) if u.name != name]
    users.append(User(name, role, agent_id if role == "agent" else "", _hash(token)))
    _save(settings, users)
    return token


def remove_user(settings: Settings, name: str) -> bool:
    users = load_users(settings)
    kept = [u for u in users if u.name != name]
    _save(settings, kept)
    return len(kept) != len(users)


def authenticate(settings: Settings, token: str) -> User | None:
    if not token:
        return None
    digest = _hash(token)
    for user in load_users(settings):
        if hmac.compare_digest(user.token_sha256, digest):
            return user
    return None


def sees_full_numbers(settings: Settings, user: User) -> bool:
    return user.role in settings.recordings.full_number_roles


def may_hear(user: User, call_agent: str) -> bool:
    """Agents hear their own calls only; supervisors and auditors hear every call."""
    if user.role == "agent":
        return bool(user.agent_id) and user.agent_id == call_agent
    return user.role in ("supervisor", "auditor")
