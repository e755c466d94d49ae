"""Storing a finished call: its record, its recording's row, its emergency linkages and the
draft work order of an answered request, idempotently (keyed by Linkedid). The bridge's
worker (crm_bridge/worker.py) and the CDR backstop (crm_bridge/reconcile.py) write through it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.calls.models import CallRecord, Disposition, EmergencyLinkage, EmergencyParty
from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.record import copy_call
from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.recordings.models import Recording
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.drafts import draft_from_call, mark_orders_emergency


def store_call(
    session: Session,
    call: FinishedCall,
    *,
    tenant: str,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    recording_size: int | None = None,
) -> CallRecord:
    """Write one finished call, idempotently (keyed by Linkedid): its record, its recording's
    row, its emergency linkages, and the draft work order of an answered request."""
    record = store_record(session, call, tenant=tenant)
    store_recording(session, call, recording_size)
    store_linkages(session, call)
    if call.disposition is Disposition.ANSWERED and call.request_type and call.answered_at:
        draft_from_call(
            session,
            linkedid=call.linkedid,
            request_type=call.request_type,
            caller_number=call.caller_number,
            agent=call.agent,
            emergency=call.emergency,
            accepted_at=call.answered_at,
            calendar=calendar,
            tz=tz,
        )
    return record


def store_record(session: Session, call: FinishedCall, *, tenant: str) -> CallRecord:
    """The call's record, new or replaced (a backstop's record by the events' one)."""
    record = session.exec(select(CallRecord).where(CallRecord.linkedid == call.linkedid)).first()
    if record is None:  # the columns without a default, then all of them
        record = CallRecord(
            linkedid=call.linkedid,
            tenant=tenant,
            started_at=call.started_at,
            ended_at=call.ended_at,
            disposition=call.disposition.value,
        )
    copy_call(record, call)
    session.add(record)
    return record


def store_recording(session: Session, call: FinishedCall, size: int | None) -> None:
    """The recording's row (the recordings worker archives it), when the call has one."""
    if not call.recording:
        return
    rec = session.exec(select(Recording).where(Recording.linkedid == call.linkedid)).first()
    if rec is None:
        rec = Recording(linkedid=call.linkedid, path=call.recording, created_at=call.started_at)
    rec.size_bytes = size
    session.add(rec)


def store_linkages(session: Session, call: FinishedCall) -> None:
    """The call's emergency linkages and parties, replaced as a whole (idempotent)."""
    for model in (EmergencyLinkage, EmergencyParty):
        for row in session.exec(select(model).where(model.linkedid == call.linkedid)):
            session.delete(row)
    for lk in call.linkages:
        session.add(
            EmergencyLinkage(
                linkedid=call.linkedid,
                seq=lk.seq,
                line=lk.line,
                via=lk.via,
                agent=lk.agent,
                started_at=lk.started_at,
                outcome=lk.outcome,
                destination=lk.destination,
                connected_at=lk.connected_at,
                attempts=",".join(lk.attempts)[:200],
            )
        )
        for p in lk.parties:
            session.add(
                EmergencyParty(
                    linkedid=call.linkedid,
                    seq=lk.seq,
                    role=p.role,
                    party=p.party,
                    joined_at=p.joined_at,
                    left_at=p.left_at,
                )
            )
    if call.linkages:
        mark_orders_emergency(session, call.linkedid)


def recording_size(settings: CrmBridgeConfig, path: str) -> int | None:
    if not path:
        return None
    try:
        return (settings.root / path.lstrip("/")).stat().st_size
    except OSError:
        return None


def store_calls(
    settings: CrmBridgeConfig,
    engine: Engine,
    calls: list[FinishedCall],
    *,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> None:
    """Write finished calls in one transaction (idempotent per Linkedid)."""
    with Session(engine) as session:
        for call in calls:
            store_call(
                session,
                call,
                tenant=settings.tenant,
                calendar=calendar,
                tz=tz,
                recording_size=recording_size(settings, call.recording),
            )
        session.commit()
