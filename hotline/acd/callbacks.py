"""Callbacks: a waiting caller pressed 1 and hung up; their place stays in the queue.

A row is the durable record of one request, from the key press to its end:
requested -> waiting (a placeholder call holds the place) -> dialling (an agent
took it, the citizen's phone rings) -> completed, or back to requested for
another attempt, or failed once every attempt is spent (reported).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, col, select

from hotline.config.settings import CallbackSettings
from hotline.kernel.dbtypes import UTCDateTime


class CallbackStatus(StrEnum):
    REQUESTED = "requested"  # due to be put (back) in line at next_attempt_at
    WAITING = "waiting"  # the placeholder holds the citizen's place in the queue
    DIALLING = "dialling"  # an agent answered the placeholder; the citizen is called
    COMPLETED = "completed"  # the citizen answered and was connected
    FAILED = "failed"  # every attempt failed: reported to supervisors


ACTIVE = (CallbackStatus.REQUESTED, CallbackStatus.WAITING, CallbackStatus.DIALLING)


class Callback(SQLModel, table=True):
    __tablename__ = "callback"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(index=True, max_length=64)  # the call in which it was asked for
    caller_number: str = Field(max_length=40)
    queue: str = Field(max_length=32)
    position: int = 1  # the place kept in the queue (1 = next)
    request_type: str = Field(default="", max_length=20)
    status: str = Field(default=CallbackStatus.REQUESTED, index=True, max_length=16)
    attempts: int = 0  # times the citizen's phone was rung
    requested_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    agent: str = Field(default="", max_length=64)
    call_linkedid: str = Field(default="", max_length=64)  # of the last callback call
    last_result: str = Field(default="", max_length=40)  # Dial status or why it was put back


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
