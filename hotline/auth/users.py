"""Users: add, list, disable, reset a password; the login check with its lockout."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from hotline.auth import passwords, tokens
from hotline.auth.errors import LoginRefused, UserError
from hotline.auth.models import User
from hotline.auth.roles import Role
from hotline.auth.settings import AuthSettings
from hotline.kernel.settings import AGENT_ID_RE

# The units belong to the work orders (workorders/units.py, unit_problem); the composition
# root passes their check in: None when the code names a unit, else what is wrong.
UnitProblem = Callable[[Session, str], str | None]

USER_RE = r"^[A-Za-z0-9_.@-]{1,64}$"


def find(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"no user {name!r}; see `hotline users list`")
    return user


def add(
    session: Session,
    name: str,
    role: str,
    password: str,
    *,
    agent_id: str = "",
    unit: str = "",
    unit_problem: UnitProblem | None = None,
) -> User:
    """A new user (caller commits). Password "" : no password login (API tokens only).
    A unit's staff needs `unit_problem`, the work orders' check of the unit's code."""
    if not re.match(USER_RE, name):
        raise UserError(f"user name {name!r}: letters, digits and _.@- only, 1-64 characters")
    try:
        Role(role)
    except ValueError as exc:
        raise UserError(f"role {role!r} unknown; allowed: {', '.join(Role)}") from exc
    if role == Role.AGENT and not re.match(AGENT_ID_RE, agent_id):
        raise UserError("an agent needs --agent-id (the agent's id, e.g. 1001)")
    if role != Role.AGENT and agent_id:
        raise UserError("--agent-id is for role agent only")
    if role == Role.UNIT_STAFF:
        _check_unit(session, unit, unit_problem)
    elif unit:
        raise UserError("--unit is for role unit_staff only")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"user {name!r} exists already; `hotline users passwd` resets a password")
    user = User(
        name=name,
        role=role,
        agent_id=agent_id,
        unit=unit,
        password_hash=passwords.hash_password(password) if password else "",
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def _check_unit(session: Session, unit: str, unit_problem: UnitProblem | None) -> None:
    if not unit:
        raise UserError("a unit's staff needs --unit (the unit's code; `hotline orders units`)")
    if unit_problem is None:
        raise UserError("units cannot be checked here: add a unit's staff with `hotline users add`")
    problem = unit_problem(session, unit)
    if problem is not None:
        raise UserError(problem)


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def set_disabled(session: Session, name: str, disabled: bool = True) -> User:
    user = find(session, name)
    user.disabled = disabled
    if disabled:
        tokens.revoke_all(session, user)
    session.add(user)
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """A new password; every token of the user ends and a lock is lifted."""
    user = find(session, name)
    user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    tokens.revoke_all(session, user)
    session.add(user)
    return user


@dataclass(frozen=True)
class Login:
    user: User
    token: str
    expires_at: datetime


def login(
    session: Session, name: str, password: str, rules: AuthSettings, now: datetime | None = None
) -> Login:
    """Check a name and password; a token for the shift, or LoginRefused. Caller commits
    either way (a failure is counted: `max_failed_logins` in a row lock the user)."""
    now = now or datetime.now(UTC)
    user = session.exec(select(User).where(User.name == name)).first()
    wrong = LoginRefused("wrong user name or password")
    if user is None:
        passwords.verify(password, "")
        raise wrong
    if user.locked_until is not None and user.locked_until > now:
        left = user.locked_until - now
        raise LoginRefused(
            f"too many failed logins: locked until {user.locked_until:%H:%M:%S} UTC",
            429,
            max(1, int(left.total_seconds())),
        )
    ok, new_hash = passwords.verify(password, user.password_hash)
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= rules.max_failed_logins:
            user.locked_until = now + timedelta(minutes=rules.lockout_minutes)
            user.failed_logins = 0
        session.add(user)
        raise wrong
    if user.disabled:
        raise LoginRefused(f"user {name} is disabled; ask an administrator", 403)
    if new_hash:
        user.password_hash = new_hash
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    token, expires = tokens.issue_for_shift(session, user, rules.token_hours)
    return Login(user, token, expires)
