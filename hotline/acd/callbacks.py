"""Callbacks: a waiting caller pressed 1 and hung up; their place stays in the queue.

A row (the `callback` table, acd/models.py) is the durable record of one request, from
the key press to its end: requested -> waiting (a placeholder call holds the place) ->
dialling (an agent took it, the citizen's phone rings) -> completed, or back to requested
for another attempt, or failed once every attempt is spent (reported).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.acd.models import Callback, CallbackStatus
from hotline.acd.settings import CallbackSettings

ACTIVE = (CallbackStatus.REQUESTED, CallbackStatus.WAITING, CallbackStatus.DIALLING)


def request(
    session: Session,
    *,
    linkedid: str,
    number: str,
    queue: str,
    position: int,
    request_type: str,
    now: datetime,
) -> Callback:
    """The caller pressed 1: one callback per call (pressing again changes nothing)."""
    existing = session.exec(
        select(Callback).where(Callback.linkedid == linkedid, col(Callback.status).in_(ACTIVE))
    ).first()
    if existing is not None:
        return existing
    cb = Callback(
        linkedid=linkedid,
        caller_number=number,
        queue=queue,
        position=max(position, 1),
        request_type=request_type,
        requested_at=now,
        next_attempt_at=now,
        updated_at=now,
    )
    session.add(cb)
    return cb


def due(session: Session, now: datetime) -> list[Callback]:
    """Requests whose place must now be put in line, oldest first."""
    return list(
        session.exec(
            select(Callback)
            .where(Callback.status == CallbackStatus.REQUESTED, Callback.next_attempt_at <= now)
            .order_by(col(Callback.requested_at))
        )
    )


def in_line(session: Session) -> list[Callback]:
    """Those with a placeholder or a callback call in Asterisk (to check after a restart)."""
    return list(
        session.exec(
            select(Callback).where(
                col(Callback.status).in_((CallbackStatus.WAITING, CallbackStatus.DIALLING))
            )
        )
    )


def placed(cb: Callback, now: datetime) -> None:
    cb.status = CallbackStatus.WAITING
    cb.updated_at = now


def dialling(cb: Callback, call_linkedid: str, now: datetime) -> None:
    cb.status = CallbackStatus.DIALLING
    cb.call_linkedid = call_linkedid
    cb.updated_at = now


def dialled(cb: Callback, dial_status: str, now: datetime, rules: CallbackSettings) -> None:
    """The callback call ended: connected, or another attempt later, or failed for good."""
    cb.last_result = dial_status or "UNKNOWN"
    cb.updated_at = now
    if dial_status == "ANSWER":
        cb.status = CallbackStatus.COMPLETED
        return
    cb.attempts += 1
    if cb.attempts >= rules.max_attempts:
        cb.status = CallbackStatus.FAILED
        return
    # The citizen has waited their turn already: the next attempt goes to the front.
    cb.status = CallbackStatus.REQUESTED
    cb.position = 1
    cb.next_attempt_at = now + timedelta(seconds=rules.retry_after_seconds)


def lost(cb: Callback, reason: str, now: datetime) -> None:
    """The placeholder vanished before the citizen was rung (Asterisk restarted, timed out)."""
    cb.status = CallbackStatus.REQUESTED
    cb.next_attempt_at = now
    cb.last_result = reason[:40]
    cb.updated_at = now
