"""The backstop: Asterisk's own CDR compared with our call records.

Any call (Linkedid) with a CDR but no call record, no journaled events and no
journaled finished row is a call the bridge missed; it is created from the CDR
(crm_bridge/cdr_calls.py) and reported: a warning in the log and a
`call_reconciled` alarm on hotline/<tenant>/alarm. Idempotent: a created call has
a record, so the next comparison leaves it alone.

Must not: overwrite a record; the events' record always knows more than the CDR.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.calls.models import CallRecord, RecordSource
from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.cdr import CdrRow, read_cdr
from hotline.crm_bridge.cdr_calls import call_from_cdr, group_by_call
from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.masking import mask_number

log = logging.getLogger(__name__)

ALARM_KIND = "call_reconciled"
ALARMS_PER_RUN = 10  # one alarm per call up to this, then one for the rest


@dataclass(frozen=True)
class Reconciliation:
    since: datetime
    examined: int  # calls with a CDR in the window
    created: list[FinishedCall]
    # where the next comparison may start: every call that ended before was settled here
    # (recorded, or created now); later ones, or one still in progress, are looked at again
    resume_from: datetime


def resume_point(
    cdr_calls: Mapping[str, list[CdrRow]], done: Collection[str], settled_before: datetime
) -> datetime:
    """The earliest end among the calls this comparison left open, or `settled_before`."""
    left = [max(r.ended for r in rows) for i, rows in cdr_calls.items() if i not in done]
    return min([settled_before, *left])


def missing(
    cdr_calls: Mapping[str, list[CdrRow]],
    recorded: Collection[str],
    in_progress: Collection[str],
    *,
    settled_before: datetime,
) -> list[str]:
    """Linkedids with a settled CDR and neither a record nor journaled work, oldest first."""
    out = []
    for linkedid, rows in cdr_calls.items():
        ended = max(r.ended for r in rows)
        if linkedid in recorded or linkedid in in_progress or ended > settled_before:
            continue
        out.append((ended, linkedid))
    return [linkedid for _, linkedid in sorted(out)]


def recorded_linkedids(engine: Engine, linkedids: Collection[str]) -> set[str]:
    ids = list(linkedids)
    found: set[str] = set()
    with Session(engine) as s:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = select(CallRecord.linkedid).where(col(CallRecord.linkedid).in_(chunk))
            found.update(s.exec(q).all())
    return found


def made_from_cdr(engine: Engine, since: datetime) -> list[CallRecord]:
    """The records that ended since `since` and are still the backstop's (source "cdr")."""
    with Session(engine) as s:
        q = (
            select(CallRecord)
            .where(CallRecord.source == RecordSource.CDR.value)
            .where(col(CallRecord.ended_at) >= since)
            .order_by(col(CallRecord.ended_at))
        )
        return list(s.exec(q).all())


def find_recording(settings: CrmBridgeConfig, call: FinishedCall) -> str:
    """MixMonitor's file of the call (extensions.conf: <dir>/<local date>/<linkedid>.<ext>),
    as seen inside the root, so that the recordings worker archives it; "" if none."""
    local = call.started_at.astimezone(ZoneInfo(settings.timezone))
    for day in (local, local - timedelta(days=1), local + timedelta(days=1)):
        path = (
            settings.recordings_dir
            / day.strftime("%Y/%m/%d")
            / f"{call.linkedid}.{settings.recordings.format}"
        )
        if (settings.root / str(path).lstrip("/")).exists():
            return str(path)
    return ""


def reconcile(
    settings: CrmBridgeConfig,
    engine: Engine,
    store: Callable[[list[FinishedCall]], None],
    *,
    since: datetime,
    now: datetime,
    in_progress: Collection[str] = (),
) -> Reconciliation:
    """Compare the CDR of calls that ended since `since` with the records; store what is missing."""
    cdr_calls = group_by_call(read_cdr(settings.cdr_file, ended_after=since))
    recorded = recorded_linkedids(engine, cdr_calls)
    settled = now - timedelta(seconds=settings.bridge.reconcile_grace_seconds)
    ids = missing(cdr_calls, recorded, set(in_progress), settled_before=settled)
    created = []
    for i in ids:
        call = call_from_cdr(cdr_calls[i])
        created.append(replace(call, recording=find_recording(settings, call)))
    if created:
        store(created)
    for call in created:
        log.warning(
            "call %s from %s was missing from the records: created from Asterisk's CDR "
            "(%s, queue %s, agent %s, ended %s)",
            call.linkedid,
            mask_number(call.caller_number),
            call.disposition.value,
            call.queue or "-",
            call.agent or "-",
            call.ended_at.isoformat(timespec="seconds"),
        )
    done = recorded | {c.linkedid for c in created}
    return Reconciliation(
        since=since,
        examined=len(cdr_calls),
        created=created,
        resume_from=max(since, resume_point(cdr_calls, done, settled)),
    )


def alarms(result: Reconciliation) -> list[Alarm]:
    out = [
        Alarm(
            kind=ALARM_KIND,
            message=(
                f"call from {mask_number(c.caller_number)} at "
                f"{c.started_at.isoformat(timespec='seconds')} was missing from the call "
                f"records; created from Asterisk's CDR ({c.disposition.value})"
            ),
            linkedid=c.linkedid,
        )
        for c in result.created[:ALARMS_PER_RUN]
    ]
    rest = len(result.created) - ALARMS_PER_RUN
    if rest > 0:
        out.append(
            Alarm(
                kind=ALARM_KIND,
                message=f"{rest} more calls were missing from the call records; created from "
                "Asterisk's CDR (hotline bridge reconcile lists them in the log)",
            )
        )
    return out


async def report(settings: CrmBridgeConfig, result: Reconciliation) -> None:
    for alarm in alarms(result):
        await publish(settings, alarm)
