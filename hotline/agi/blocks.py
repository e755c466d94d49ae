"""Blocked numbers (art. 21.4): add, remove, list, look up; every change audited.

The caller commits. Emergency transfers are never blocked (see agi/ivr.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, or_, select

from hotline.agi.errors import BlockError
from hotline.agi.models import BlockAudit, BlockedNumber


def _normal(number: str) -> str:
    text = number.strip()
    if not text or not all(c.isdigit() or c == "+" for c in text) or len(text) > 40:
        raise BlockError(f"{number!r} is not a phone number (digits, optionally a leading +)")
    return text


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def active_block(
    session: Session, number: str, now: datetime | None = None
) -> BlockedNumber | None:
    if not number:
        return None
    at = _now(now)
    return session.exec(
        select(BlockedNumber)
        .where(BlockedNumber.number == number.strip())
        .where(col(BlockedNumber.removed_at).is_(None))
        .where(or_(col(BlockedNumber.expires_at).is_(None), col(BlockedNumber.expires_at) > at))
        .order_by(col(BlockedNumber.id).desc())
    ).first()


def add_block(
    session: Session,
    number: str,
    *,
    reason: str,
    actor: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> BlockedNumber:
    number = _normal(number)
    if not reason.strip():
        raise BlockError("a reason is required (art. 21.4: malicious use)")
    if not actor.strip():
        raise BlockError("the supervisor's name is required (who blocked)")
    at = _now(now)
    if expires_at is not None and expires_at.astimezone(UTC) <= at:
        raise BlockError("the expiry must be in the future")
    existing = active_block(session, number, at)
    if existing is not None:
        raise BlockError(f"{number} is already blocked (block {existing.id}); remove it first")
    block = BlockedNumber(
        number=number,
        reason=reason.strip()[:200],
        created_by=actor.strip()[:64],
        created_at=at,
        expires_at=expires_at.astimezone(UTC) if expires_at else None,
    )
    session.add(block)
    session.flush()
    session.add(
        BlockAudit(
            block_id=block.id,
            number=number,
            action="added",
            actor=block.created_by,
            detail=block.reason,
            at=at,
        )
    )
    return block


def remove_block(
    session: Session, number: str, *, actor: str, now: datetime | None = None
) -> BlockedNumber:
    number = _normal(number)
    at = _now(now)
    block = active_block(session, number, at)
    if block is None:
        raise BlockError(f"{number} is not blocked")
    block.removed_at = at
    block.removed_by = actor.strip()[:64]
    session.add(block)
    session.add(
        BlockAudit(
            block_id=block.id, number=number, action="removed", actor=block.removed_by, at=at
        )
    )
    return block


def list_blocks(
    session: Session, *, include_inactive: bool = False, now: datetime | None = None
) -> list[BlockedNumber]:
    at = _now(now)
    q = select(BlockedNumber).order_by(col(BlockedNumber.created_at).desc())
    if not include_inactive:
        q = q.where(col(BlockedNumber.removed_at).is_(None)).where(
            or_(col(BlockedNumber.expires_at).is_(None), col(BlockedNumber.expires_at) > at)
        )
    return list(session.exec(q))


def audit(session: Session, number: str | None = None) -> list[BlockAudit]:
    q = select(BlockAudit).order_by(col(BlockAudit.id))
    if number:
        q = q.where(BlockAudit.number == number)
    return list(session.exec(q))


def log_refused_call(session: Session, number: str, linkedid: str) -> None:
    block = active_block(session, number)
    if block is not None:
        block.refused_calls += 1
        session.add(block)
    session.add(
        BlockAudit(
            block_id=block.id if block else None,
            number=number,
            action="refused-call",
            actor="ivr",
            detail=linkedid[:200],
            at=_now(None),
        )
    )
