"""A recording file and the call it belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.dbtypes import UTCDateTime


class Recording(SQLModel, table=True):
    __tablename__ = "recording"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(unique=True, index=True, max_length=64)
    # as Asterisk wrote it, inside its root (e.g. /var/spool/asterisk/monitor/hotline/...)
    path: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime)
    size_bytes: int | None = None
