"""Reading and settling the outbox: what is due, what happened, the dead-letter list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, delete, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hotline.crm_bridge.upstream.models import ChangeStatus, UpstreamChange

PENDING, DELIVERED, DEAD = ChangeStatus.PENDING, ChangeStatus.DELIVERED, ChangeStatus.DEAD


def due(session: Session, now: datetime, limit: int) -> list[UpstreamChange]:
    """Pending changes whose time has come, oldest first; a record's later change waits
    while an earlier one of the same record is still pending (the platform sees them in
    order)."""
    earlier = aliased(UpstreamChange)
    blocked = exists().where(
        and_(
            col(earlier.kind) == col(UpstreamChange.kind),
            col(earlier.ref) == col(UpstreamChange.ref),
            col(earlier.status) == PENDING.value,
            col(earlier.id) < col(UpstreamChange.id),
        )
    )
    query = (
        select(UpstreamChange)
        .where(UpstreamChange.status == PENDING.value, UpstreamChange.next_at <= now, ~blocked)
        .order_by(col(UpstreamChange.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def settle(
    session: Session,
    change_id: int,
    status: ChangeStatus,
    *,
    http_status: int | None,
    error: str,
    now: datetime,
    next_at: datetime | None = None,
) -> None:
    """Record one attempt: delivered, dead, or pending again at `next_at`."""
    values: dict[str, object] = {
        "status": status.value,
        "attempts": UpstreamChange.attempts + 1,
        "last_status": http_status,
        "last_error": error[:2000],
    }
    if status is DELIVERED:
        values["delivered_at"] = now
    if next_at is not None:
        values["next_at"] = next_at
    session.exec(update(UpstreamChange).where(col(UpstreamChange.id) == change_id).values(**values))


def wake_all(session: Session, now: datetime) -> int:
    """The platform answers again: every pending change is due now, not at its back-off."""
    result = session.exec(
        update(UpstreamChange)
        .where(col(UpstreamChange.status) == PENDING.value, col(UpstreamChange.next_at) > now)
        .values(next_at=now)
    )
    return int(result.rowcount)


def replay(session: Session, ids: Sequence[int] | None, now: datetime) -> int:
    """Dead changes back to pending, due now with fresh attempts (all when `ids` is None).
    They keep their version and key: the platform dedups one it got after all."""
    query = update(UpstreamChange).where(col(UpstreamChange.status) == DEAD.value)
    if ids is not None:
        query = query.where(col(UpstreamChange.id).in_(list(ids)))
    result = session.exec(query.values(status=PENDING.value, attempts=0, next_at=now))
    return int(result.rowcount)


def dead(session: Session, limit: int = 100) -> list[UpstreamChange]:
    query = (
        select(UpstreamChange)
        .where(UpstreamChange.status == DEAD.value)
        .order_by(col(UpstreamChange.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def prune(session: Session, before: datetime) -> int:
    """Delivered changes older than `before` are no longer needed."""
    result = session.exec(
        delete(UpstreamChange).where(
            col(UpstreamChange.status) == DELIVERED.value,
            col(UpstreamChange.delivered_at) < before,
        )
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Summary:
    pending: int
    delivered: int
    dead: int
    oldest_pending: datetime | None
    last_delivered: datetime | None
    last_error: str

    def as_dict(self) -> dict[str, object]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "pending": self.pending,
            "delivered": self.delivered,
            "dead": self.dead,
            "oldest_pending": iso(self.oldest_pending),
            "last_delivered": iso(self.last_delivered),
            "last_error": self.last_error,
        }


def summary(session: Session) -> Summary:
    counts = {
        status: int(n)
        for status, n in session.exec(
            select(UpstreamChange.status, func.count()).group_by(UpstreamChange.status)
        ).all()
    }
    oldest = session.exec(
        select(func.min(UpstreamChange.changed_at)).where(UpstreamChange.status == PENDING.value)
    ).one()
    last = session.exec(select(func.max(UpstreamChange.delivered_at))).one()
    error_row = session.exec(
        select(UpstreamChange.last_error)
        .where(UpstreamChange.status != DELIVERED.value, UpstreamChange.last_error != "")
        .order_by(col(UpstreamChange.id).desc())
        .limit(1)
    ).first()
    return Summary(
        pending=counts.get(PENDING.value, 0),
        delivered=counts.get(DELIVERED.value, 0),
        dead=counts.get(DEAD.value, 0),
        oldest_pending=_aware(oldest),
        last_delivered=_aware(last),
        last_error=error_row or "",
    )


def _aware(value: object) -> datetime | None:
    """An aggregate's time as aware UTC, whatever the driver gave."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
