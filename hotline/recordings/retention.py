"""Retention: kept at least 3 years from the call (art. 28); legal holds block deletion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from hotline.recordings.manifest import append
from hotline.recordings.models import LegalHold, ManifestKind, Recording, RecordingStatus
from hotline.workorders.models import WorkOrder

log = logging.getLogger(__name__)


def add_years(when: datetime, years: int) -> datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February: keep it one day longer, never shorter
        return when.replace(year=when.year + years, month=3, day=1)


@dataclass(frozen=True)
class Held:
    linkedids: frozenset[str]
    work_orders: frozenset[str]

    def covers(self, rec: Recording) -> bool:
        return rec.linkedid in self.linkedids or (
            bool(rec.work_order_number) and rec.work_order_number in self.work_orders
        )


def active_holds(session: Session) -> Held:
    holds = list(session.exec(select(LegalHold).where(col(LegalHold.released_at).is_(None))))
    calls = {h.linkedid for h in holds if h.linkedid}
    orders = {h.work_order_number for h in holds if h.work_order_number}
    if orders:  # a hold on a work order covers the call it came from
        linked = session.exec(select(WorkOrder.linkedid).where(col(WorkOrder.number).in_(orders)))
        calls |= {lid for lid in linked if lid}
    return Held(frozenset(calls), frozenset(orders))


def place_hold(
    session: Session,
    *,
    reason: str,
    by: str,
    linkedid: str = "",
    work_order_number: str = "",
    now: datetime | None = None,
) -> LegalHold:
    if bool(linkedid) == bool(work_order_number):
        raise ValueError("a hold names exactly one call (--call) or one work order (--work-order)")
    if not reason.strip():
        raise ValueError("a hold needs a reason")
    hold = LegalHold(
        linkedid=linkedid,
        work_order_number=work_order_number,
        reason=reason,
        placed_by=by,
        placed_at=now or datetime.now(UTC),
    )
    session.add(hold)
    return hold


def release_hold(session: Session, hold_id: int, *, by: str) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise ValueError(f"no active hold {hold_id}; see `hotline recordings holds`")
    hold.released_at = datetime.now(UTC)
    hold.released_by = by
    session.add(hold)
    return hold


@dataclass
class PurgeReport:
    deleted: list[Recording] = field(default_factory=list)
    held: list[Recording] = field(default_factory=list)
    kept: int = 0  # not expired yet


def purge(
    session: Session,
    archive_dir: Path,
    *,
    retention_years: int,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete archived recordings older than the retention and not on hold.

    Each deletion is logged in the chain and committed before the file goes, so a crash
    leaves at worst a file that verify names as extra, never an unlogged deletion.
    """
    if retention_years < 3:
        raise ValueError("recordings must be kept at least 3 years (art. 28)")
    now = now or datetime.now(UTC)
    report = PurgeReport()
    held = active_holds(session)
    rows = session.exec(
        select(Recording)
        .where(Recording.status == RecordingStatus.ARCHIVED)
        .order_by(col(Recording.created_at))
    )
    for rec in list(rows):
        if add_years(rec.created_at, retention_years) > now:
            report.kept += 1
            continue
        if held.covers(rec):
            report.held.append(rec)
            continue
        report.deleted.append(rec)
        if dry_run:
            continue
        append(
            session,
            ManifestKind.PURGED,
            rec.linkedid,
            path=rec.archive_path,
            size=rec.archive_size or 0,
            duration_seconds=rec.duration_seconds or 0.0,
            sha256=rec.sha256,
            at=now,
        )
        rec.status = RecordingStatus.PURGED
        rec.purged_at = now
        session.add(rec)
        session.commit()
        (archive_dir / rec.archive_path).unlink(missing_ok=True)
        log.info("purged the recording of call %s (%s)", rec.linkedid, rec.archive_path)
    return report
