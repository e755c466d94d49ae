"""Bearer tokens: random, kept as SHA-256 only, always with an expiry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from hotline.auth.errors import TokenRefused
from hotline.auth.models import AuthToken, User


@dataclass(frozen=True)
class Principal:
    """Who a request comes from (a valid, unexpired token of an enabled user)."""

    name: str
    role: str
    agent_id: str = ""
    unit: str = ""
    token_id: int | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session, user: User, expires_at: datetime, kind: str = "login", label: str = ""
) -> str:
    """A new token for `user`; returns it (only its hash is stored). Caller commits."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(
        AuthToken(
            token_sha256=digest(token),
            user_id=user.id,
            kind=kind,
            label=label,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )
    return token


def issue_for_shift(session: Session, user: User, hours: float) -> tuple[str, datetime]:
    expires = datetime.now(UTC) + timedelta(hours=hours)
    return issue(session, user, expires), expires


def resolve(session: Session, token: str, now: datetime | None = None) -> Principal:
    if not token:
        raise TokenRefused("no token: log in at POST /api/login (or the page /login)")
    now = now or datetime.now(UTC)
    row = session.exec(
        select(AuthToken, User)
        .join(User, col(User.id) == col(AuthToken.user_id))
        .where(AuthToken.token_sha256 == digest(token))
    ).first()
    if row is None:
        raise TokenRefused("unknown token: log in again")
    tok, user = row
    if tok.revoked_at is not None:
        raise TokenRefused("this token was logged out: log in again")
    if tok.expires_at <= now:
        raise TokenRefused(f"token expired at {tok.expires_at:%Y-%m-%d %H:%M} UTC: log in again")
    if user.disabled:
        raise TokenRefused(f"user {user.name} is disabled")
    return Principal(user.name, user.role, user.agent_id, user.unit, tok.id)


def revoke(session: Session, token: str) -> bool:
    tok = session.exec(select(AuthToken).where(AuthToken.token_sha256 == digest(token))).first()
    if tok is None or tok.revoked_at is not None:
        return False
    tok.revoked_at = datetime.now(UTC)
    session.add(tok)
    return True


def revoke_all(session: Session, user: User) -> int:
    """Every live token of a user (on disable and password reset)."""
    now = datetime.now(UTC)
    rows = session.exec(
        select(AuthToken).where(
            AuthToken.user_id == user.id,
            col(AuthToken.revoked_at).is_(None),
            col(AuthToken.expires_at) > now,
        )
    ).all()
    for tok in rows:
        tok.revoked_at = now
        session.add(tok)
    return len(rows)
