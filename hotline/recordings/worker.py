"""The post-processing worker: the `recording` table is its durable queue.

The bridge writes a `pending` row at hang-up. The worker checks the duration against
the call, transcodes, hashes, and then, in ONE transaction guarded by `status =
'pending'`, marks the row archived and appends the chain link. A crash before that
commit redoes the (idempotent) transcode; after it, nothing is done again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from hotline.calls.models import CallRecord
from hotline.kernel.alarms import Alarm, publish
from hotline.recordings.archive import ArchiveResult, archive_one, ensure_private_dir
from hotline.recordings.diskguard import check_space, describe
from hotline.recordings.errors import ArchiveError, SpoolError
from hotline.recordings.integrity import verify
from hotline.recordings.manifest import append
from hotline.recordings.models import ManifestKind, Recording, RecordingStatus
from hotline.recordings.retention import add_years
from hotline.recordings.settings import RecordingsConfig
from hotline.recordings.spool import choose_spool, chosen_spool
from hotline.workorders.models import WorkOrder

log = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # MixMonitor closes its file just after the hang-up
MISSING_GRACE_SECONDS = 60.0  # no file this long after the call: capture failed
MAX_ATTEMPTS = 5
VERIFY_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    linkedid: str
    status: str  # archived, missing, failed, retry, skipped
    alarm: Alarm | None = None


def spool_file(settings: RecordingsConfig, path: str) -> Path:
    """Asterisk's path (inside its root) as seen from here; '.wav49' becomes '.WAV'."""
    full = settings.root / path.lstrip("/")
    if full.suffix == ".wav49":
        full = full.with_suffix(".WAV")
    return full


def archive_subdir(settings: RecordingsConfig, started_at: datetime) -> str:
    return started_at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y/%m/%d")


def due_recordings(engine: Engine, now: datetime, limit: int = 50) -> list[int]:
    """Pending rows whose call ended a moment ago, oldest first."""
    with Session(engine) as s:
        rows = s.exec(
            select(Recording.id, CallRecord.ended_at)
            .join(CallRecord, col(CallRecord.linkedid) == col(Recording.linkedid), isouter=True)
            .where(Recording.status == RecordingStatus.PENDING)
            .order_by(col(Recording.id))
            .limit(limit)
        ).all()
    out = []
    for rec_id, ended in rows:
        if rec_id is not None and (
            ended is None or now - ended >= timedelta(seconds=SETTLE_SECONDS)
        ):
            out.append(rec_id)
    return out


def _finish(
    engine: Engine, rec_id: int, values: dict[str, object], kind: ManifestKind, **link: object
) -> bool:
    """Mark the row and append its chain link atomically; False if already done."""
    with Session(engine) as s:
        result = s.exec(
            update(Recording)
            .where(col(Recording.id) == rec_id, col(Recording.status) == RecordingStatus.PENDING)
            .values(**values)
        )
        if result.rowcount != 1:
            s.rollback()
            return False
        append(s, kind, str(link.pop("linkedid")), **link)  # type: ignore[arg-type]
        s.commit()
    return True


def _retry(engine: Engine, rec_id: int, error: str) -> int:
    with Session(engine) as s:
        rec = s.get(Recording, rec_id)
        assert rec is not None
        rec.attempts += 1
        rec.last_error = error[:500]
        s.add(rec)
        s.commit()
        return rec.attempts


@dataclass(frozen=True)
class _Job:
    """A pending recording with what its call says of it."""

    rec_id: int
    linkedid: str
    path: str  # as Asterisk wrote it
    created: datetime
    started: datetime
    ended: datetime | None
    expected: float | None  # the call's length, seconds
    common: dict[str, object]  # the row's values whatever the outcome


def process_one(settings: RecordingsConfig, engine: Engine, rec_id: int, now: datetime) -> Outcome:
    """Archive one pending recording: missing, failed (after MAX_ATTEMPTS), or archived."""
    job = _job(settings, engine, rec_id, now)
    if job is None:
        return Outcome("", "skipped")
    src = spool_file(settings, job.path)
    if not src.exists():
        if now - (job.ended or job.created) < timedelta(seconds=MISSING_GRACE_SECONDS):
            return Outcome(job.linkedid, "retry")
        return _missing(engine, job, now)
    dst = settings.recordings_archive_dir / archive_subdir(settings, job.started)
    try:
        result = archive_one(src, dst, settings.recordings.archive_format, name=job.linkedid)
    except (ArchiveError, OSError) as exc:
        return _failed(engine, job, exc)
    return _archived(settings, engine, job, src, result, now)


def _job(settings: RecordingsConfig, engine: Engine, rec_id: int, now: datetime) -> _Job | None:
    """The recording if still pending, with its call and work order; None otherwise."""
    with Session(engine) as s:
        rec = s.get(Recording, rec_id)
        if rec is None or rec.status != RecordingStatus.PENDING:
            return None
        call = s.exec(select(CallRecord).where(CallRecord.linkedid == rec.linkedid)).first()
        order = s.exec(select(WorkOrder).where(WorkOrder.linkedid == rec.linkedid)).first()
        linkedid, path, created = rec.linkedid, rec.path, rec.created_at
        # a message left while waiting names its order already (agi/messages.py)
        known_order = rec.work_order_number
    started = call.started_at if call else created
    ended = call.ended_at if call else None
    expected = (ended - started).total_seconds() if ended else None
    common: dict[str, object] = {
        "expected_seconds": expected,
        "agent": call.agent if call else "",
        "queue": call.queue if call else "",
        "work_order_number": order.number if order else known_order,
        "processed_at": now,
        "expires_at": add_years(started, settings.recordings.retention_years),
    }
    return _Job(rec_id, linkedid, path, created, started, ended, expected, common)


def _missing(engine: Engine, job: _Job, now: datetime) -> Outcome:
    """No file long after the call: the row says so, and an alarm."""
    values = {**job.common, "status": RecordingStatus.MISSING, "truncated": True,
              "duration_seconds": 0.0, "last_error": f"no file {job.path}"}  # fmt: skip
    if _finish(engine, job.rec_id, values, ManifestKind.MISSING, linkedid=job.linkedid, at=now):
        msg = f"call {job.linkedid}: Asterisk left no recording at {job.path}"
        return Outcome(job.linkedid, "missing", Alarm("recording_missing", msg, job.linkedid))
    return Outcome(job.linkedid, "skipped")


def _failed(engine: Engine, job: _Job, exc: Exception) -> Outcome:
    """Retried later, or failed (with an alarm) after MAX_ATTEMPTS."""
    attempts = _retry(engine, job.rec_id, str(exc))
    if attempts < MAX_ATTEMPTS:
        return Outcome(job.linkedid, "retry")
    values = {**job.common, "status": RecordingStatus.FAILED, "last_error": str(exc)[:500]}
    with Session(engine) as s:
        s.exec(update(Recording).where(col(Recording.id) == job.rec_id).values(**values))
        s.commit()
    return Outcome(job.linkedid, "failed", Alarm("recording_failed", str(exc), job.linkedid))


def _archived(
    settings: RecordingsConfig,
    engine: Engine,
    job: _Job,
    src: Path,
    result: ArchiveResult,
    now: datetime,
) -> Outcome:
    """The row archived with its chain link, the spool file gone (unless kept); an alarm
    when the recording is shorter than the call."""
    cfg = settings.recordings
    truncated = job.expected is not None and (
        result.duration_seconds < job.expected - cfg.truncation_tolerance_seconds
    )
    rel = result.path.relative_to(settings.recordings_archive_dir).as_posix()
    values = {
        **job.common,
        "status": RecordingStatus.ARCHIVED,
        "archive_path": rel,
        "archive_format": result.format,
        "archive_size": result.size,
        "sha256": result.sha256,
        "channels": result.channels,
        "duration_seconds": result.duration_seconds,
        "truncated": truncated,
        "last_error": "",
    }
    done = _finish(
        engine,
        job.rec_id,
        values,
        ManifestKind.ARCHIVED,
        linkedid=job.linkedid,
        path=rel,
        size=result.size,
        duration_seconds=result.duration_seconds,
        sha256=result.sha256,
        at=now,
    )
    if not done:
        return Outcome(job.linkedid, "skipped")
    if not cfg.keep_spool:
        src.unlink(missing_ok=True)
    log.info(
        "archived call %s: %.1f s of %.1f s, %s %d bytes, sha256 %s",
        job.linkedid,
        result.duration_seconds,
        job.expected or 0.0,
        result.format,
        result.size,
        result.sha256[:12],
    )
    if truncated:
        msg = (
            f"call {job.linkedid}: recording truncated, {result.duration_seconds:.1f} s of a "
            f"{job.expected:.1f} s call (disk full or write error?)"
        )
        return Outcome(job.linkedid, "archived", Alarm("recording_truncated", msg, job.linkedid))
    return Outcome(job.linkedid, "archived")


def process_pending(
    settings: RecordingsConfig, engine: Engine, now: datetime | None = None
) -> list[Outcome]:
    """One pass over the queue (also `hotline recordings process`)."""
    now = now or datetime.now(UTC)
    return [process_one(settings, engine, rec_id, now) for rec_id in due_recordings(engine, now)]


def _lower_priority() -> None:
    # Linux nice is per thread: transcoding (and its ffmpeg children) yields to calls.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class RecordingWorker:
    """Runs in `hotline up` (or `hotline serve recordings`): queue, disk guard, daily verify."""

    def __init__(self, settings: RecordingsConfig, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.pool = ThreadPoolExecutor(
            1, thread_name_prefix="recordings", initializer=_lower_priority
        )
        self.disk_low: set[str] = set()
        # as Asterisk last said (AstDB, spool.py); None: not asked yet, or it did not answer
        self.on_secondary: bool | None = None
        self.spool_unknown = False
        self.last_disk_check = 0.0
        self.next_verify = datetime.now(UTC) + VERIFY_EVERY
        self.archived = 0

    async def run(self) -> None:
        ensure_private_dir(self.settings.recordings_archive_dir)
        while True:
            try:
                await self.tick()
            except Exception:  # database down, disk error: keep going
                log.exception("recordings worker pass failed; retrying")
            await asyncio.sleep(self.settings.recordings.poll_seconds)

    def status(self) -> dict[str, object]:
        """Recordings archived since the start, where the disk runs low, the next verify."""
        return {
            "archived": self.archived,
            "disk_low": sorted(self.disk_low),
            "on_secondary": self.on_secondary,
            "next_verify": self.next_verify.isoformat(),
        }

    async def tick(self) -> None:
        if time.monotonic() - self.last_disk_check >= self.settings.recordings.disk_check_seconds:
            self.last_disk_check = time.monotonic()
            await self.guard_disk()
        loop = asyncio.get_running_loop()
        outcomes = await loop.run_in_executor(
            self.pool, process_pending, self.settings, self.engine
        )
        for outcome in outcomes:
            self.archived += outcome.status == "archived"
            if outcome.alarm:
                await publish(self.settings, outcome.alarm)
        if datetime.now(UTC) >= self.next_verify:
            self.next_verify = datetime.now(UTC) + VERIFY_EVERY
            await self.daily_verify()

    async def guard_disk(self) -> None:
        reports = await asyncio.to_thread(check_space, self.settings)
        low = {r.name for r in reports if r.low}
        for name in sorted(low - self.disk_low):
            text = describe(reports, self.settings.recordings.min_free_mb)
            await publish(self.settings, Alarm("disk_low", f"recordings {name}: {text}"))
        for name in sorted(self.disk_low - low):
            log.info("recordings %s has enough free space again", name)
        self.disk_low = low
        secondary = self.settings.recordings.secondary_dir
        if secondary:
            want = secondary if "spool" in low and "secondary" not in low else None
            await asyncio.to_thread(self.settle_spool, want)
        elif self.on_secondary is None:
            # no secondary (any more): a choice left in AstDB by an earlier configuration
            # would keep new calls there for good; cleared once Asterisk answers
            await asyncio.to_thread(self.settle_spool, None)

    def settle_spool(self, want: str | None) -> None:
        """Make Asterisk record into `want` (None: the rendered default): read its choice
        back from AstDB and switch when it differs, whatever this worker did before (a
        reload, a restart or a hand may have changed it)."""
        root = self.settings.root
        switched = False
        try:
            now = chosen_spool(root)
            if now != want:
                now = choose_spool(root, want)
                switched = True
        except SpoolError as exc:
            if not self.spool_unknown:
                log.error("recording spool: %s; asked again at each disk check", exc)
            self.spool_unknown = True
            self.on_secondary = None
            return
        self.spool_unknown = False
        self.on_secondary = now is not None
        if now != want:
            log.error("recording spool: Asterisk says %s after setting %s", now, want)
        elif switched:
            log.warning("recordings now written to %s", want or self.settings.recordings_dir)

    async def daily_verify(self) -> None:
        def run() -> list[str]:
            with Session(self.engine) as s:
                return verify(s, self.settings.recordings_archive_dir).problems

        problems = await asyncio.to_thread(run)
        if problems:
            msg = f"{len(problems)} problem(s); first: {problems[0]}"
            await publish(self.settings, Alarm("verify_failed", msg, severity="critical"))
        else:
            log.info("daily recordings verify: chain and files intact")
