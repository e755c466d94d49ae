"""The bridge service: AMI events in, call records and draft work orders out."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.settings import Settings
from crm_bridge.ami import AmiClient
from crm_bridge.assembler import CallAssembler, FinishedCall
from crm_bridge.models import CallRecord, Disposition
from crm_bridge.privacy import mask_number
from recordings.models import Recording
from workorders.calendar import WorkCalendar, load_calendar
from workorders.drafts import draft_from_call

log = logging.getLogger(__name__)


def store_call(
    session: Session,
    call: FinishedCall,
    *,
    tenant: str,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    recording_size: int | None = None,
) -> CallRecord:
    """Write one finished call, idempotently (keyed by Linkedid)."""
    record = session.exec(select(CallRecord).where(CallRecord.linkedid == call.linkedid)).first()
    if record is None:
        record = CallRecord(
            linkedid=call.linkedid,
            tenant=tenant,
            started_at=call.started_at,
            ended_at=call.ended_at,
            disposition=call.disposition.value,
        )
    record.caller_number = call.caller_number
    record.caller_name = call.caller_name
    record.started_at = call.started_at
    record.ivr_left_at = call.ivr_left_at
    record.ivr_choice = call.ivr_choice
    record.ivr_result = call.ivr_result
    record.request_type = call.request_type
    record.emergency = call.emergency
    record.queue = call.queue
    record.queues = ",".join(call.queues)
    record.queue_joined_at = call.queue_joined_at
    record.wait_seconds = call.wait_seconds
    record.agent = call.agent
    record.answered_at = call.answered_at
    record.talk_seconds = call.talk_seconds
    record.ended_at = call.ended_at
    record.hangup_cause = call.hangup_cause
    record.hangup_cause_text = call.hangup_cause_text
    record.disposition = call.disposition.value
    record.recording_path = call.recording
    record.survey, record.emergency_line = call.survey, call.emergency_line
    session.add(record)
    if call.recording:
        rec = session.exec(select(Recording).where(Recording.linkedid == call.linkedid)).first()
        if rec is None:
            rec = Recording(linkedid=call.linkedid, path=call.recording, created_at=call.started_at)
        rec.size_bytes = recording_size
        session.add(rec)
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


class BridgeService:
    def __init__(self, settings: Settings, engine: Engine, ami: AmiClient) -> None:
        self.settings = settings
        self.engine = engine
        self.ami = ami
        self.assembler = CallAssembler()
        self.calendar = load_calendar()
        self.tz = ZoneInfo(settings.timezone)
        self.calls_stored = 0
        self.last_error = ""

    def _recording_size(self, path: str) -> int | None:
        if not path:
            return None
        full = self.settings.root / path.lstrip("/")
        try:
            return full.stat().st_size
        except OSError:
            return None

    def _store(self, call: FinishedCall) -> None:
        with Session(self.engine) as session:
            store_call(
                session,
                call,
                tenant=self.settings.tenant,
                calendar=self.calendar,
                tz=self.tz,
                recording_size=self._recording_size(call.recording),
            )
            session.commit()

    async def store_with_retry(self, call: FinishedCall) -> None:
        delay = 0.5
        while True:
            try:
                await asyncio.to_thread(self._store, call)
                self.calls_stored += 1
                log.info(
                    "call %s from %s: %s, queue %s, agent %s",
                    call.linkedid,
                    mask_number(call.caller_number),
                    call.disposition.value,
                    call.queue or "-",
                    call.agent or "-",
                )
                return
            except IntegrityError:
                log.exception("call %s conflicts with a stored row; kept as is", call.linkedid)
                return
            except Exception as exc:  # database down: keep the call, try again
                self.last_error = str(exc)
                log.warning(
                    "storing call %s failed (%s); retry in %.1fs", call.linkedid, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def run(self) -> None:
        while True:
            event = await self.ami.events.get()
            finished = self.assembler.feed(event)
            if finished is not None:
                await self.store_with_retry(finished)
