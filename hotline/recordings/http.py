"""Routes of recordings: search, play (HTTP range requests), download; all audited.

Needs a login (auth/): agents hear their own calls, supervisors and auditors every call.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import Engine

from hotline.auth import gate
from hotline.auth.masking import sees_full_numbers
from hotline.auth.roles import Perm
from hotline.auth.tokens import Principal as User
from hotline.calls.models import CallRecord
from hotline.kernel.masking import mask_number
from hotline.kernel.web import EngineDep, engine_of, settings_of
from hotline.recordings import service
from hotline.recordings.models import Recording
from hotline.recordings.service import Filters
from hotline.recordings.settings import RecordingsConfig

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[RecordingsConfig, Depends(settings_of)]

MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg", "gsm": "audio/x-gsm"}
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


router = APIRouter(prefix="/api/recordings", tags=["recordings"])
REQUIREMENT = gate.require(Perm.RECORDINGS)
MISSING = "the archived file is missing; run `hotline recordings verify`"


def current_user(request: Request) -> User:
    """The caller, if they may reach recordings; a refusal without a token is logged too."""
    try:
        return REQUIREMENT(request)
    except HTTPException as exc:
        route = request.scope.get("route")
        action = ACTIONS.get(getattr(route, "name", ""), "")
        if exc.status_code == 401 and action:
            linkedid = request.path_params.get("linkedid", "")
            _log(request, engine_of(request), None, linkedid, action, 401)
        raise


current_user.requirement = REQUIREMENT  # type: ignore[attr-defined]
UserDep = Annotated[User, Depends(current_user)]


@router.get("", response_model=list[RecordingOut])
def search(
    request: Request,
    user: UserDep,
    settings: ConfigDep,
    engine: EngineDep,
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
    if caller and not sees_full_numbers(settings, user):
        _log(request, engine, user, "", "search", 403, "search by caller number refused")
        raise HTTPException(403, f"role {user.role} may not search by caller number")
    if caller:
        _log(request, engine, user, "", "search", 200, "search by caller number")
    f = Filters(since, until, agent, queue, work_order, caller, limit)
    return [_out(settings, rec, call, user) for rec, call in service.search(engine, user, f)]


@router.get("/audit", response_model=list[AccessOut])
def access_log(
    user: UserDep,
    engine: EngineDep,
    linkedid: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AccessOut]:
    gate.check(user, Perm.RECORDINGS_LOG)
    rows = service.access_log(engine, linkedid, limit)
    return [AccessOut.model_validate(a.model_dump()) for a in rows]


@router.get("/{linkedid}", response_model=RecordingOut)
def one(
    request: Request, linkedid: str, user: UserDep, settings: ConfigDep, engine: EngineDep
) -> RecordingOut:
    rec, call = _allowed(request, engine, user, linkedid, "view", archived=False)
    return _out(settings, rec, call, user)


@router.get("/{linkedid}/audio", response_class=FileResponse)
def play(
    request: Request, linkedid: str, user: UserDep, settings: ConfigDep, engine: EngineDep
) -> FileResponse:
    """Playable in a browser (GSM is decoded to WAV); supports HTTP Range."""
    rec, _ = _allowed(request, engine, user, linkedid, "play")
    src = _archived_file(request, engine, settings, user, rec, "play")
    path, media = src, MEDIA_TYPES.get(rec.archive_format, "application/octet-stream")
    if rec.archive_format == "gsm":
        path, media = service.playable_wav(settings, src, rec.linkedid), "audio/wav"
    _log(request, engine, user, linkedid, "play", 200, request.headers.get("range", ""))
    return FileResponse(path, media_type=media)


@router.get("/{linkedid}/download", response_class=FileResponse)
def download(
    request: Request, linkedid: str, user: UserDep, settings: ConfigDep, engine: EngineDep
) -> FileResponse:
    """The archived file as kept (its SHA-256 is in the manifest)."""
    rec, _ = _allowed(request, engine, user, linkedid, "download")
    src = _archived_file(request, engine, settings, user, rec, "download")
    _log(request, engine, user, linkedid, "download", 200, request.headers.get("range", ""))
    return FileResponse(
        src,
        media_type=MEDIA_TYPES.get(rec.archive_format, "application/octet-stream"),
        filename=src.name,
    )


def _log(
    request: Request,
    engine: Engine,
    user: User | None,
    linkedid: str,
    action: str,
    status_code: int,
    detail: str = "",
) -> None:
    remote = request.client.host if request.client else ""
    service.log_access(engine, user, linkedid, action, status_code, remote, detail)


def _allowed(
    request: Request, engine: Engine, user: User, linkedid: str, action: str, archived: bool = True
) -> tuple[Recording, CallRecord | None]:
    """The recording and its call, or the refusal logged and raised."""
    rec, call = service.find(engine, linkedid)
    no = service.refusal(linkedid, rec, call, user, archived)
    if no is not None:
        _log(request, engine, user, linkedid, action, no.status, no.detail)
        raise HTTPException(no.status, no.message)
    assert rec is not None  # refusal() said 404 otherwise
    return rec, call


def _archived_file(
    request: Request,
    engine: Engine,
    settings: RecordingsConfig,
    user: User,
    rec: Recording,
    action: str,
) -> Path:
    """The recording's file in the archive; 410 (logged) when it has gone missing."""
    src = settings.recordings_archive_dir / rec.archive_path
    if not src.is_file():
        _log(request, engine, user, rec.linkedid, action, 410, "file missing from the archive")
        raise HTTPException(410, MISSING)
    return src


def _out(
    settings: RecordingsConfig, rec: Recording, call: CallRecord | None, user: User
) -> RecordingOut:
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
