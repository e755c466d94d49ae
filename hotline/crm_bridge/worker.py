"""The bridge service: AMI events in, call records and draft work orders out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from hotline.asterisk.ami import AmiClient
from hotline.crm_bridge.assembler import CallAssembler, FinishedCall
from hotline.crm_bridge.cdr import read_cdr
from hotline.crm_bridge.journal import Journal
from hotline.crm_bridge.reconcile import Reconciliation, reconcile, report
from hotline.crm_bridge.resync import (
    CUT_CAUSE,
    asterisk_started,
    believed_alive,
    cut_ends,
    end_time,
    hangup_events,
    plan,
)
from hotline.crm_bridge.service import store_calls
from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.kernel.masking import mask_number
from hotline.workorders.calendar import load_calendar

log = logging.getLogger(__name__)

BATCH = 200  # finished calls per database transaction
INTAKE_BATCH = 2000  # AMI events per journal transaction
RETRY_FIRST, RETRY_CAP = 0.5, 30.0  # seconds between attempts while the database fails
HEARD_EVERY = 1.0  # seconds: how often the bridge notes that Asterisk's AMI session is up
HEARD_SAVE_EVERY = 5.0  # seconds: how often that note goes to the journal (for a restart)


def _rows(reply: Any) -> list[dict[str, str]]:
    if isinstance(reply, list):
        return [{str(k): str(v) for k, v in r.items()} for r in reply]
    return []


class BridgeService:
    """AMI events → journal (crm_bridge/journal.py) → assembler → journal → database.

    Intake and storing are separate tasks: a database that is down or slow holds
    up neither the events nor the calls in progress, and the finished calls are
    written in batches (one transaction each) once it answers again.
    """

    def __init__(
        self,
        settings: CrmBridgeConfig,
        engine: Engine,
        ami: AmiClient,
        journal: Journal | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.ami = ami
        self.journal = journal or Journal(journal_path(settings))
        self.assembler = CallAssembler()
        self.calendar = load_calendar()
        self.tz = ZoneInfo(settings.timezone)
        self.calls_stored = 0
        self.calls_reconciled = 0
        self.calls_cut = 0
        # when the AMI session was last seen up: the end of the calls an Asterisk restart cut
        self.heard_at: datetime | None = None
        self._in_session = False  # a login's resync done, and the session not seen lost since
        self._floor = datetime.now(UTC)  # run(): when this bridge's journal first ran
        self.last_error = ""
        self._finished = asyncio.Event()
        self._unjournaled: list[FinishedCall] = []
        self._resume: datetime | None = None  # where the next scheduled comparison starts

    def _store_batch(self, calls: list[FinishedCall]) -> None:
        store_calls(self.settings, self.engine, calls, calendar=self.calendar, tz=self.tz)

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
                self.journal.append(e for e in events if not self.assembler.ended(e))
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

    def _queued(self) -> list[dict[str, str]]:
        events = []
        while not self.ami.events.empty():
            events.append(self.ami.events.get_nowait())
        return events

    async def resync(
        self, arrived: list[dict[str, str]] | None = None, *, started: datetime | None = None
    ) -> list[FinishedCall]:
        """At each AMI login: close the open calls whose channels are gone, at their true
        end; `arrived` are the events after the login that were already taken off the queue.
        `started`: when Asterisk started (resync.asterisk_started); the gone calls that began
        before are cut (resync.cut_ends), and end when the bridge last heard of Asterisk.
        """
        before = believed_alive(self.assembler.calls)
        try:
            reply = await self.ami.action({"Action": "CoreShowChannels"}, as_list=True)
        except Exception as exc:  # the link went again: the next login tries again
            log.warning("bridge: could not list live channels (%s); resync at next login", exc)
            self.take([*(arrived or []), *self._queued()])
            return []
        self.take([*(arrived or []), *self._queued()])  # what happened while we asked
        p = plan(
            before,
            self.assembler.calls,
            _rows(reply),
            finished=self.assembler.finished,
            now=datetime.now(UTC),
        )
        if p.new_channels:
            self.take(p.new_channels)
        if not p.hangups:
            return []
        ends: Mapping[str, datetime] = {}
        try:
            cdr = await asyncio.to_thread(read_cdr, self.settings.cdr_file, linkedids=p.closing)
            ends = {i: t for i in p.closing if (t := end_time(i, cdr)) is not None}
        except (OSError, sqlite3.Error) as exc:
            log.warning("bridge: CDR %s not readable (%s)", self.settings.cdr_file, exc)
        cut = cut_ends(p, self.assembler.calls, ends, started=started, heard=self.heard_at)
        closed = self.take(hangup_events(p, self.assembler.calls, ends, cut))
        log.info(
            "bridge: resynchronised at login: %d calls ended while away (%d with the CDR's "
            "end time, %d cut by Asterisk's restart, the others at their last event seen), "
            "%d channels found",
            len(closed),
            sum(1 for c in closed if c.linkedid in ends),
            len(cut),
            len(p.new_channels),
        )
        if cut and started is not None:
            self._report_cut(cut, started)
        return closed

    def _report_cut(self, cut: Mapping[str, datetime], started: datetime) -> None:
        self.calls_cut += len(cut)
        log.warning(
            "bridge: Asterisk restarted at %s: %d calls in progress were cut (%s), "
            "recorded as ended at %s with hang-up cause %r",
            started.isoformat(timespec="seconds"),
            len(cut),
            ", ".join(sorted(cut)[:20]) + (", …" if len(cut) > 20 else ""),
            max(cut.values()).isoformat(timespec="seconds"),
            CUT_CAUSE,
        )

    async def _heard_loop(self) -> None:
        """Note, every HEARD_EVERY seconds, that Asterisk's AMI session is up; in the journal
        every HEARD_SAVE_EVERY seconds and when the session is seen lost, so that the note
        outlives a restart of the bridge."""
        saved: datetime | None = None
        while True:
            now = datetime.now(UTC)
            up = self.ami.logged_in.is_set()
            if self._in_session and up:
                self.heard_at = now
            if self._in_session and not up:
                self._in_session = False
            if self.heard_at is not None and self.heard_at != saved:
                lost = not self._in_session
                if saved is None or lost or (now - saved).total_seconds() >= HEARD_SAVE_EVERY:
                    try:
                        self.journal.heard(self.heard_at)
                        saved = self.heard_at
                    except sqlite3.Error:
                        log.exception("bridge journal %s not writable", self.journal.path)
            await asyncio.sleep(HEARD_EVERY)

    async def reconcile_once(self, since: datetime | None = None) -> Reconciliation:
        """Compare Asterisk's CDR with the records; create and report the calls we missed."""
        now = datetime.now(UTC)
        lookback = timedelta(hours=self.settings.bridge.reconcile_lookback_hours)
        # from where the last comparison left off: reading the whole lookback every time
        # cost memory and time growing with the day's calls (the soak's bridge grew 1.5 MB a
        # minute) and held Asterisk's CDR writes back ("database is locked")
        scheduled = since is None
        since = since or max(self._resume or self._floor, now - lookback)
        in_progress = (
            set(self.assembler.calls)
            | self.journal.linkedids()
            | {c.linkedid for c in self._unjournaled}
        )
        result = await asyncio.to_thread(
            reconcile,
            self.settings,
            self.engine,
            self._store_batch,
            since=since,
            now=now,
            in_progress=in_progress,
        )
        self.calls_reconciled += len(result.created)
        if scheduled:
            self._resume = result.resume_from
        await report(self.settings, result)
        return result

    async def _reconcile_loop(self) -> None:
        every = self.settings.bridge.reconcile_every_seconds
        while True:
            await asyncio.sleep(every)
            try:
                await self.reconcile_once()
            except Exception as exc:  # the database or the CDR file: next time
                log.warning("bridge: reconciliation with the CDR failed (%s)", exc)

    async def run(self) -> None:
        self._floor = self.journal.started_at()
        self.heard_at = self.journal.last_heard()
        self.rebuild()
        tasks = [
            asyncio.create_task(self._store_loop(), name="bridge-store"),
            asyncio.create_task(self._reconcile_loop(), name="bridge-reconcile"),
            asyncio.create_task(self._heard_loop(), name="bridge-heard"),
        ]
        try:
            while True:
                events = [await self.ami.events.get()]
                while len(events) < INTAKE_BATCH and not self.ami.events.empty():
                    events.append(self.ami.events.get_nowait())
                login = next(
                    (i for i, e in enumerate(events) if e.get("Event") == "FullyBooted"), None
                )
                if login is None:
                    self.take(events)
                else:  # a (new) AMI session: events may have been missed
                    self._in_session = False
                    started = asterisk_started(events[login], datetime.now(UTC))
                    self.take(events[:login])
                    await self.resync(events[login + 1 :], started=started)
                    self._in_session = True
        finally:
            for task in tasks:
                task.cancel()

    def status(self) -> dict[str, object]:
        """The AMI session, the calls in progress, those stored, reconciled and cut by an
        Asterisk restart since the start, and the last failure to store."""
        return {
            "ami_logged_in": self.ami.logged_in.is_set(),
            "calls_in_progress": len(self.assembler.calls),
            "calls_stored": self.calls_stored,
            "calls_reconciled": self.calls_reconciled,
            "calls_cut": self.calls_cut,
            "unjournaled": len(self._unjournaled),
            "last_error": self.last_error,
        }


def journal_path(settings: CrmBridgeConfig) -> Path:
    return settings.var_dir / "bridge" / "journal.db"
