"""HTTP API for recordings: search, play (HTTP range requests), download; all audited.

Needs a login (auth/): agents hear their own calls, supervisors and auditors every call.
"""

import os
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.auth.gate import Gate
from hotline.auth.masking import sees_full_numbers
from hotline.auth.roles import Perm, Role
from hotline.auth.tokens import Principal as User
from hotline.calls.models import CallRecord
from hotline.config.settings import Settings
from hotline.kernel.masking import mask_number
from hotline.recordings.access import may_hear
from hotline.recordings.archive import SAMPLE_RATE, ensure_private_dir, load_source
from hotline.recordings.models import Recording, RecordingAccess, RecordingStatus

MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg", "gsm": "audio/x-gsm"}
PLAY_CACHE_SECONDS = 3600
# the recordings' own access log names what was refused to a caller without a token
ACTIONS = {"search": "search", "one": "view", "play": "play", "download": "download"}


class RecordingOut(BaseModel):
    linkedid: str
    started_at: datetime
    caller_number: str  # masked unless the role may see full numbers
    agent: str
    queue: str
    work_order_number: str
    status: str
    duration_seconds: float | None
    expected_seconds: float | None
    truncated: bool
    archive_format: str
    archive_size: int | None
    sha256: str
    expires_at: datetime | None


class AccessOut(BaseModel):
    at: datetime
    user: str
    role: str
    linkedid: str
    action: str
    allowed: bool
    status_code: int
    remote: str
    detail: str


def _day_start(d: date) -> datetime:
    return datetime.combine(d, dtime.min, tzinfo=UTC)


def recordings_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/api/recordings", tags=["recordings"])

    def audit(
        request: Request,
        user: User | None,
        linkedid: str,
        action: str,
        status_code: int,
        detail: str = "",
    ) -> None:
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
                    remote=request.client.host if request.client else "",
                    detail=detail[:255],
                )
            )
            s.commit()

    requirement = Gate(settings, engine).require(Perm.RECORDINGS)

    def current_user(request: Request) -> User:
        try:
            return requirement(request)
        except HTTPException as exc:
            route = request.scope.get("route")
            action = ACTIONS.get(getattr(route, "name", ""), "")
            if exc.status_code == 401 and action:
                audit(request, None, request.path_params.get("linkedid", ""), action, 401)
            raise

    current_user.requirement = requirement  # type: ignore[attr-defined]

    def out(rec: Recording, call: CallRecord | None, user: User) -> RecordingOut:
        number = call.caller_number if call else ""
        return RecordingOut(
            linkedid=rec.linkedid,
            started_at=call.started_at if call else rec.created_at,
            caller_number=number if sees_full_numbers(settings, user) else mask_number(number),
            agent=rec.agent or (call.agent if call else ""),
            queue=rec.queue or (call.queue if call else ""),
            work_order_number=rec.work_order_number,
            status=rec.status,
            duration_seconds=rec.duration_seconds,
            expected_seconds=rec.expected_seconds,
            truncated=rec.truncated,
            archive_format=rec.archive_format,
            archive_size=rec.archive_size,
            sha256=rec.sha256,
            expires_at=rec.expires_at,
        )

    @router.get("", response_model=list[RecordingOut])
    def search(
        request: Request,
        user: Annotated[User, Depends(current_user)],
        since: Annotated[date | None, Query(description="calls from this day (UTC)")] = None,
        until: Annotated[date | None, Query(description="calls before the end of this day")] = None,
        agent: str | None = None,
        queue: str | None = None,
        work_order: Annotated[str | None, Query(description="work-order number")] = None,
        caller: Annotated[
            str | None, Query(description="full number; roles that may see numbers only")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[RecordingOut]:
        u = user
        if caller and not sees_full_numbers(settings, u):
            audit(request, u, "", "search", 403, "search by caller number refused")
            raise HTTPException(403, f"role {u.role} may not search by caller number")
        q = (
            select(Recording, CallRecord)
            .join(CallRecord, col(CallRecord.linkedid) == col(Recording.linkedid), isouter=True)
            .order_by(col(Recording.created_at).desc())
            .limit(limit)
        )
        if u.role == Role.AGENT:
            q = q.where(col(Recording.agent) == u.agent_id)
        if agent:
            q = q.where(col(Recording.agent) == agent)
        if queue:
            q = q.where(col(Recording.queue) == queue)
        if work_order:
            q = q.where(col(Recording.work_order_number) == work_order)
        if caller:
            q = q.where(col(CallRecord.caller_number) == caller)
            audit(request, u, "", "search", 200, "search by caller number")
        if since:
            q = q.where(col(Recording.created_at) >= _day_start(since))
        if until:
            q = q.where(col(Recording.created_at) < _day_start(until) + timedelta(days=1))
        with Session(engine) as s:
            return [out(rec, call, u) for rec, call in s.exec(q).all()]

    def find(
        request: Request, user: User, linkedid: str, action: str, archived: bool = True
    ) -> tuple[Recording, User]:
        with Session(engine) as s:
            rec = s.exec(select(Recording).where(Recording.linkedid == linkedid)).first()
            call = s.exec(select(CallRecord).where(CallRecord.linkedid == linkedid)).first()
        if rec is None:
            audit(request, user, linkedid, action, 404)
            raise HTTPException(404, f"no recording of call {linkedid}")
        call_agent = rec.agent or (call.agent if call else "")
        if not may_hear(user, call_agent):
            audit(request, user, linkedid, action, 403, "not this user's call")
            raise HTTPException(403, "agents may hear their own calls only")
        if archived and rec.status != RecordingStatus.ARCHIVED:
            audit(request, user, linkedid, action, 409, f"status {rec.status}")
            raise HTTPException(409, f"recording of call {linkedid} is {rec.status}")
        return rec, user

    @router.get("/audit", response_model=list[AccessOut])
    def access_log(
        request: Request,
        user: Annotated[User, Depends(current_user)],
        linkedid: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[AccessOut]:
        u = user
        Gate.check(u, Perm.RECORDINGS_LOG)
        q = select(RecordingAccess).order_by(col(RecordingAccess.id).desc()).limit(limit)
        if linkedid:
            q = q.where(RecordingAccess.linkedid == linkedid)
        with Session(engine) as s:
            return [AccessOut.model_validate(a.model_dump()) for a in s.exec(q)]

    @router.get("/{linkedid}", response_model=RecordingOut)
    def one(
        request: Request, linkedid: str, user: Annotated[User, Depends(current_user)]
    ) -> RecordingOut:
        rec, u = find(request, user, linkedid, "view", archived=False)
        with Session(engine) as s:
            call = s.exec(select(CallRecord).where(CallRecord.linkedid == linkedid)).first()
        return out(rec, call, u)

    @router.get("/{linkedid}/audio", response_class=FileResponse)
    def play(
        request: Request, linkedid: str, user: Annotated[User, Depends(current_user)]
    ) -> FileResponse:
        """Playable in a browser (GSM is decoded to WAV); supports HTTP Range."""
        rec, u = find(request, user, linkedid, "play")
        src = settings.recordings_archive_dir / rec.archive_path
        if not src.is_file():
            audit(request, u, linkedid, "play", 410, "file missing from the archive")
            raise HTTPException(
                410, "the archived file is missing; run `hotline recordings verify`"
            )
        path, media = src, MEDIA_TYPES.get(rec.archive_format, "application/octet-stream")
        if rec.archive_format == "gsm":
            path, media = _playable_wav(settings, src, rec.linkedid), "audio/wav"
        audit(request, u, linkedid, "play", 200, request.headers.get("range", ""))
        return FileResponse(path, media_type=media)

    @router.get("/{linkedid}/download", response_class=FileResponse)
    def download(
        request: Request, linkedid: str, user: Annotated[User, Depends(current_user)]
    ) -> FileResponse:
        """The archived file as kept (its SHA-256 is in the manifest)."""
        rec, u = find(request, user, linkedid, "download")
        src = settings.recordings_archive_dir / rec.archive_path
        if not src.is_file():
            audit(request, u, linkedid, "download", 410, "file missing from the archive")
            raise HTTPException(
                410, "the archived file is missing; run `hotline recordings verify`"
            )
        audit(request, u, linkedid, "download", 200, request.headers.get("range", ""))
        return FileResponse(
            src,
            media_type=MEDIA_TYPES.get(rec.archive_format, "application/octet-stream"),
            filename=src.name,
        )

    return router


def _playable_wav(settings: Settings, src: Path, linkedid: str) -> Path:
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
