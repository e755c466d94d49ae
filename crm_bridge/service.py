"""The bridge service: AMI events in, call records and draft work orders out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.settings import Settings
from crm_bridge.ami import AmiClient
from crm_bridge.assembler import CallAssembler, FinishedCall
from crm_bridge.journal import Journal
from crm_bridge.models import CallRecord, Disposition, EmergencyLinkage, EmergencyParty
from crm_bridge.privacy import mask_number
from recordings.models import Recording
from workorders.calendar import WorkCalendar, load_calendar
from workorders.drafts import draft_from_call, mark_orders_emergency

log = logging.getLogger(__name__)

BATCH = 200  # finished calls per database transaction
INTAKE_BATCH = 2000  # AMI events per journal transaction
RETRY_FIRST, RETRY_CAP = 0.5, 30.0  # seconds between attempts while the database fails


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
    record.widening, record.widening_pace = call.widening, call.widening_pace
    session.add(record)
    if call.recording:
        rec = session.exec(select(Recording).where(Recording.linkedid == call.linkedid)).first()
        if rec is None:
            rec = Recording(linkedid=call.linkedid, path=call.recording, created_at=call.started_at)
        rec.size_bytes = recording_size
        session.add(rec)
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


class BridgeService:
    """AMI events → journal (crm_bridge/journal.py) → assembler → journal → database.

    Intake and storing are separate tasks: a database that is down or slow holds
    up neither the events nor the calls in progress, and the finished calls are
    written in batches (one transaction each) once it answers again.
    """

    def __init__(
        self, settings: Settings, engine: Engine, ami: AmiClient, journal: Journal | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.ami = ami
        self.journal = journal or Journal(journal_path(settings))
        self.assembler = CallAssembler()
        self.calendar = load_calendar()
        self.tz = ZoneInfo(settings.timezone)
        self.calls_stored = 0
        self.last_error = ""
        self._finished = asyncio.Event()
        self._unjournaled: list[FinishedCall] = []

    def _recording_size(self, path: str) -> int | None:
        if not path:
            return None
        full = self.settings.root / path.lstrip("/")
        try:
            return full.stat().st_size
        except OSError:
            return None

    def _store_batch(self, calls: list[FinishedCall]) -> None:
        with Session(self.engine) as session:
            for call in calls:
                store_call(
                    session,
                    call,
                    tenant=self.settings.tenant,
                    calendar=self.calendar,
                    tz=self.tz,
                    recording_size=self._recording_size(call.recording),
                )
            session.commit()

    def rebuild(self) -> int:
        """After a restart: the calls in progress from their journaled events."""
        events = self.journal.open_events()
        self.take(events, journal=False)
        if events:
            log.info("bridge: %d journaled events replayed", len(events))
        return len(events)

    def take(self, events: list[dict[str, str]], *, journal: bool = True) -> list[FinishedCall]:
        """Journal the events (durable first), then assemble; the calls they finished."""
        if journal:
            try:
                self.journal.append(events)
            except sqlite3.Error:  # the outbox disk: keep serving from memory, loudly
                log.exception("bridge journal %s not writable", self.journal.path)
        finished = [call for e in events if (call := self.assembler.feed(e)) is not None]
        if finished:
            try:
                self.journal.finish(finished)
            except sqlite3.Error:
                log.exception("bridge journal %s not writable", self.journal.path)
                self._unjournaled.extend(finished)
            self._finished.set()
        return finished

    async def store_pending(self) -> int:
        """Store what waits, in batches; raises when the database fails (nothing is lost)."""
        done = 0
        while self._unjournaled:  # only when the journal itself failed
            calls = self._unjournaled[:BATCH]
            await asyncio.to_thread(self._store_batch, calls)
            del self._unjournaled[: len(calls)]
            done += self._stored(calls)
        while calls := self.journal.pending(BATCH):
            await asyncio.to_thread(self._store_batch, calls)
            self.journal.stored(c.linkedid for c in calls)
            done += self._stored(calls)
        return done

    def _stored(self, calls: list[FinishedCall]) -> int:
        self.calls_stored += len(calls)
        for call in calls:
            log.info(
                "call %s from %s: %s, queue %s, agent %s",
                call.linkedid,
                mask_number(call.caller_number),
                call.disposition.value,
                call.queue or "-",
                call.agent or "-",
            )
        return len(calls)

    async def _store_loop(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                await self.store_pending()
                delay = RETRY_FIRST
                self._finished.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), 1.0)
            except IntegrityError:
                await self._store_one_by_one()
            except Exception as exc:  # database down: the calls wait in the journal
                self.last_error = str(exc)
                pause = delay * random.uniform(0.5, 1.0)  # jitter: not all bridges at once
                log.warning("storing calls failed (%s); retry in %.1fs", exc, pause)
                await asyncio.sleep(pause)
                delay = min(delay * 2, RETRY_CAP)

    async def _store_one_by_one(self) -> None:
        """A batch refused by a constraint: find the call, keep the rest."""
        for call in self.journal.pending(BATCH):
            try:
                await asyncio.to_thread(self._store_batch, [call])
            except IntegrityError:
                log.exception("call %s conflicts with a stored row; kept as is", call.linkedid)
            self.journal.stored([call.linkedid])

    async def run(self) -> None:
        self.rebuild()
        storer = asyncio.create_task(self._store_loop(), name="bridge-store")
        try:
            while True:
                events = [await self.ami.events.get()]
                while len(events) < INTAKE_BATCH and not self.ami.events.empty():
                    events.append(self.ami.events.get_nowait())
                self.take(events)
        finally:
            storer.cancel()


def journal_path(settings: Settings) -> Path:
    return settings.var_dir / "bridge" / "journal.db"
