"""Recordings tables: the index (and durable work queue), the hash chain, holds, access log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class RecordingStatus(StrEnum):
    PENDING = "pending"  # written by the bridge at hang-up: the worker's queue
    ARCHIVED = "archived"  # transcoded, hashed, in the chain
    MISSING = "missing"  # Asterisk left no file (disk full, capture failed): flagged
    FAILED = "failed"  # could not be transcoded after every attempt: alarm
    PURGED = "purged"  # deleted after retention, the deletion is in the chain


class Recording(SQLModel, table=True):
    __tablename__ = "recording"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(unique=True, index=True, max_length=64)
    # as Asterisk wrote it, inside its root (e.g. /var/spool/asterisk/monitor/hotline/...)
    path: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime)
    size_bytes: int | None = None
    status: str = Field(default=RecordingStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    # relative to the archive directory
    archive_path: str = Field(default="", max_length=255)
    archive_format: str = Field(default="", max_length=8)
    archive_size: int | None = None
    sha256: str = Field(default="", max_length=64)
    channels: int | None = None
    duration_seconds: float | None = None  # of the audio Asterisk wrote
    expected_seconds: float | None = None  # of the call (answer to hang-up)
    truncated: bool = False
    work_order_number: str = Field(default="", index=True, max_length=32)
    agent: str = Field(default="", index=True, max_length=64)
    queue: str = Field(default="", max_length=32)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ManifestKind(StrEnum):
    ARCHIVED = "archived"
    MISSING = "missing"
    PURGED = "purged"


class ManifestEntry(SQLModel, table=True):
    """One link of the insert-only hash chain (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "recording_manifest"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=16)
    linkedid: str = Field(index=True, max_length=64)
    path: str = Field(default="", max_length=255)
    size: int = 0
    duration_ms: int = 0
    sha256: str = Field(default="", max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    prev_hash: str = Field(unique=True, max_length=64)
    entry_hash: str = Field(unique=True, max_length=64)


class LegalHold(SQLModel, table=True):
    """A legal hold on a call or a work order: its recordings are not purged."""

    __tablename__ = "recording_hold"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(default="", index=True, max_length=64)
    work_order_number: str = Field(default="", index=True, max_length=32)
    reason: str = Field(max_length=500)
    placed_by: str = Field(max_length=64)
    placed_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: str = Field(default="", max_length=64)


class RecordingAccess(SQLModel, table=True):
    """Every playback, download and refused attempt: who, when, which, from where."""

    __tablename__ = "recording_access"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    user: str = Field(max_length=64, index=True)
    role: str = Field(max_length=16)
    linkedid: str = Field(default="", index=True, max_length=64)
    action: str = Field(max_length=16)  # play, download, search
    allowed: bool
    status_code: int
    remote: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=255)


def message_key(linkedid: str) -> str:
    """A message's own entry in the recordings index (the call's is the linkedid)."""
    return f"{linkedid}-message"
