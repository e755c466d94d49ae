"""The message sweep: a message left while the database or the FastAGI server was down
becomes its draft work order once they are back.

The dialplan records a message to <recordings_dir>/messages/YYYY/MM/DD/<linkedid>.wav
(inside the Asterisk root) and then asks the `message` route for its order. When that
fails the file stays with no order. The FastAGI server (which owns messages) looks at
start and every SWEEP_EVERY_SECONDS for such files of the last LOOKBACK_DAYS that no
order references, and makes the order from the call's record (caller, request type) as
the route would have. A message whose call has no record yet (the call goes on, or the
bridge has not written it) waits for a later sweep. No alarm: each outcome is logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.agi.messages import order_from_message, ordered_message
from hotline.calls.models import CallRecord
from hotline.kernel.masking import mask_number
from hotline.workorders.models import WorkOrderAttachment
from hotline.workorders.revisits import order_for_call

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 60.0
# untouched this long: Record() is done and the call's own route had its chance
MIN_AGE = timedelta(seconds=60)
# a call an agent answered after the message: the agent files the call's order in wrap-up,
# and the message joins that order rather than making a second one
ANSWERED_GRACE = timedelta(minutes=10)
LOOKBACK_DAYS = 7
# waiting this long for its call record is worth a warning (once per message)
LONG_WAIT = timedelta(hours=1)
# the directory [hotline-message] of extensions.conf.j2 records into, under recordings_dir
MESSAGES_SUBDIR = "messages"


@dataclass(frozen=True)
class Message:
    linkedid: str
    path: str  # as Asterisk wrote it, inside its root (what the order's attachment names)
    left_at: datetime  # the file's last write: the end of the message


@dataclass
class SweepReport:
    made: list[str] = field(default_factory=list)  # order numbers, new or joined
    waiting: list[Message] = field(default_factory=list)  # no call record yet, or grace
    failed: list[str] = field(default_factory=list)  # linkedids; tried again next sweep


def find_messages(
    root: Path, messages_dir: PurePosixPath, tz: ZoneInfo, now: datetime
) -> list[Message]:
    """Message files of the last LOOKBACK_DAYS (local dates) untouched for MIN_AGE."""
    out: list[Message] = []
    today = now.astimezone(tz).date()
    for back in range(LOOKBACK_DAYS + 1):
        day = PurePosixPath((today - timedelta(days=back)).strftime("%Y/%m/%d"))
        folder = root / str(messages_dir / day).lstrip("/")
        if not folder.is_dir():
            continue
        for wav in sorted(folder.glob("*.wav")):
            try:
                left = datetime.fromtimestamp(wav.stat().st_mtime, UTC)
            except FileNotFoundError:  # archived meanwhile
                continue
            if now - left >= MIN_AGE:
                out.append(Message(wav.stem, str(messages_dir / day / wav.name), left))
    return out


def sweep_messages(
    engine: Engine, root: Path, messages_dir: PurePosixPath, tz: ZoneInfo, now: datetime
) -> SweepReport:
    """One pass; a message's order is made in a transaction of its own."""
    report = SweepReport()
    found = find_messages(root, messages_dir, tz, now)
    ordered = _ordered_paths(engine, [m.path for m in found])
    for msg in found:
        if msg.path in ordered:
            continue
        try:
            number = _sweep_one(engine, msg, tz, now)
        except Exception as exc:
            log.warning("message of call %s: no work order yet (%s)", msg.linkedid, exc)
            report.failed.append(msg.linkedid)
            continue
        if number is None:
            report.waiting.append(msg)
        elif number:
            report.made.append(number)
    return report


def _ordered_paths(engine: Engine, paths: list[str]) -> set[str]:
    out: set[str] = set()
    with Session(engine) as s:
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            out.update(
                s.exec(
                    select(WorkOrderAttachment.path).where(
                        col(WorkOrderAttachment.path).in_(chunk),
                        WorkOrderAttachment.kind == "recording",
                    )
                )
            )
    return out


def _sweep_one(engine: Engine, msg: Message, tz: ZoneInfo, now: datetime) -> str | None:
    """The order number made or joined; "" when the call's route made it meanwhile;
    None while the message waits for its call record (or for the agent's wrap-up)."""
    with Session(engine) as s:
        if ordered_message(s, msg.path) is not None:
            return ""
        record = s.exec(select(CallRecord).where(CallRecord.linkedid == msg.linkedid)).first()
        if record is None:
            return None
        if record.answered_at is not None and now - record.ended_at < ANSWERED_GRACE:
            return None
        joined = order_for_call(s, msg.linkedid) is not None
        caller = record.caller_number
        order = order_from_message(
            s,
            linkedid=msg.linkedid,
            caller=caller,
            path=msg.path,
            request_type=record.request_type,
            now=msg.left_at,  # its deadlines run from when the citizen left it
            tz=tz,
        )
        number = order.number
        s.commit()
    log.info(
        "message of call %s from %s %s work order %s (swept)",
        msg.linkedid,
        mask_number(caller),
        "joined" if joined else "became draft",
        number,
    )
    return number


class MessageSweep:
    """Runs beside the FastAGI server: a sweep at start, then every `every` seconds."""

    def __init__(
        self,
        engine: Engine,
        *,
        root: Path,
        messages_dir: PurePosixPath,
        tz: ZoneInfo,
        every: float = SWEEP_EVERY_SECONDS,
    ) -> None:
        self.engine = engine
        self.root = root
        self.messages_dir = messages_dir
        self.tz = tz
        self.every = every
        self._warned: set[str] = set()
        self.last: SweepReport | None = None
        self.last_at: datetime | None = None

    async def run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self.every)

    def status(self) -> dict[str, object]:
        """The last pass that reached the database: when, orders made, messages waiting."""
        last = self.last
        return {
            "last_sweep": self.last_at.isoformat() if self.last_at else None,
            "made": len(last.made) if last else 0,
            "waiting": len(last.waiting) if last else 0,
            "failed": len(last.failed) if last else 0,
        }

    async def sweep(self, now: datetime | None = None) -> SweepReport | None:
        when = now or datetime.now(UTC)
        try:
            report = await asyncio.to_thread(
                sweep_messages, self.engine, self.root, self.messages_dir, self.tz, when
            )
        except Exception as exc:  # the database is down: the next sweep tries again
            log.warning("message sweep failed (%s); next in %g s", exc, self.every)
            return None
        self.last, self.last_at = report, when
        for msg in report.waiting:
            if when - msg.left_at >= LONG_WAIT and msg.linkedid not in self._warned:
                self._warned.add(msg.linkedid)
                log.warning(
                    "message of call %s (%s) still has no work order after %s: "
                    "its call has no record yet",
                    msg.linkedid,
                    msg.path,
                    when - msg.left_at,
                )
        if report.made or report.failed:
            log.info(
                "message sweep: %d work orders, %d messages waiting for their call, %d failed",
                len(report.made),
                len(report.waiting),
                len(report.failed),
            )
        return report
