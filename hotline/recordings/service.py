"""What the recordings' routes ask of the archive: find, search, log each access, and a
copy a browser can play. No HTTP here (recordings/http.py answers)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.auth.roles import Role
from hotline.auth.tokens import Principal
from hotline.calls.models import CallRecord
from hotline.recordings.access import may_hear
from hotline.recordings.archive import SAMPLE_RATE, ensure_private_dir, load_source
from hotline.recordings.models import Recording, RecordingAccess, RecordingStatus
from hotline.recordings.settings import RecordingsConfig

PLAY_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Filters:
    """A search of recordings; None or "": not a condition."""

    since: date | None = None  # calls from this day (UTC)
    until: date | None = None  # calls before the end of this day
    agent: str | None = None
    queue: str | None = None
    work_order: str | None = None
    caller: str | None = None  # the full number
    limit: int = 100


@dataclass(frozen=True)
class Refusal:
    """Why a user may not have a recording: the HTTP status, the access log's detail, the
    message for the user."""

    status: int
    detail: str
    message: str


def log_access(
    engine: Engine,
    user: Principal | None,
    linkedid: str,
    action: str,
    status_code: int,
    remote: str,
    detail: str = "",
) -> None:
    """One row of the recordings' own access log (allowed or refused)."""
    with Session(engine) as s:
        s.add(
            RecordingAccess(
                at=datetime.now(UTC),
                user=user.name if user else "(no valid token)",
                role=user.role if user else "",
                linkedid=linkedid,
                action=action,
                allowed=status_code < 400,
                status_code=status_code,
                remote=remote,
                detail=detail[:255],
            )
        )
        s.commit()


def access_log(engine: Engine, linkedid: str | None, limit: int) -> list[RecordingAccess]:
    q = select(RecordingAccess).order_by(col(RecordingAccess.id).desc()).limit(limit)
    if linkedid:
        q = q.where(RecordingAccess.linkedid == linkedid)
    with Session(engine) as s:
        return list(s.exec(q))


def search(
    engine: Engine, user: Principal, f: Filters
) -> list[tuple[Recording, CallRecord | None]]:
    """Recordings newest first, with their calls; an agent finds their own calls only."""
    q = (
        select(Recording, CallRecord)
        .join(CallRecord, col(CallRecord.linkedid) == col(Recording.linkedid), isouter=True)
        .order_by(col(Recording.created_at).desc())
        .limit(f.limit)
    )
    if user.role == Role.AGENT:
        q = q.where(col(Recording.agent) == user.agent_id)
    if f.agent:
        q = q.where(col(Recording.agent) == f.agent)
    if f.queue:
        q = q.where(col(Recording.queue) == f.queue)
    if f.work_order:
        q = q.where(col(Recording.work_order_number) == f.work_order)
    if f.caller:
        q = q.where(col(CallRecord.caller_number) == f.caller)
    if f.since:
        q = q.where(col(Recording.created_at) >= _day_start(f.since))
    if f.until:
        q = q.where(col(Recording.created_at) < _day_start(f.until) + timedelta(days=1))
    with Session(engine) as s:
        return [(rec, call) for rec, call in s.exec(q).all()]


def find(engine: Engine, linkedid: str) -> tuple[Recording | None, CallRecord | None]:
    """The recording of a call and the call itself, either None when unknown."""
    with Session(engine) as s:
        rec = s.exec(select(Recording).where(Recording.linkedid == linkedid)).first()
        call = s.exec(select(CallRecord).where(CallRecord.linkedid == linkedid)).first()
    return rec, call


def refusal(
    linkedid: str,
    rec: Recording | None,
    call: CallRecord | None,
    user: Principal,
    archived: bool,
) -> Refusal | None:
    """Why `user` may not have this recording (None: they may). `archived`: the file is
    wanted (play, download), not only the row."""
    if rec is None:
        return Refusal(404, "", f"no recording of call {linkedid}")
    call_agent = rec.agent or (call.agent if call else "")
    if not may_hear(user, call_agent):
        return Refusal(403, "not this user's call", "agents may hear their own calls only")
    if archived and rec.status != RecordingStatus.ARCHIVED:
        return Refusal(409, f"status {rec.status}", f"recording of call {linkedid} is {rec.status}")
    return None


def playable_wav(settings: RecordingsConfig, src: Path, linkedid: str) -> Path:
    """A WAV copy for browsers, cached an hour in var/cache/recordings-play (0700)."""
    cache = settings.var_dir / "cache" / "recordings-play"
    ensure_private_dir(cache)
    now = time.time()
    for old in cache.glob("*.wav"):
        if now - old.stat().st_mtime > PLAY_CACHE_SECONDS:
            old.unlink(missing_ok=True)
    wav = cache / f"{linkedid}.wav"
    if not wav.exists():
        audio = load_source(src)
        tmp = cache / f".{linkedid}.{os.getpid()}.wav"
        audio.set_frame_rate(SAMPLE_RATE).export(str(tmp), format="wav").close()
        os.chmod(tmp, 0o600)
        tmp.replace(wav)
    return wav


def _day_start(d: date) -> datetime:
    return datetime.combine(d, dtime.min, tzinfo=UTC)
