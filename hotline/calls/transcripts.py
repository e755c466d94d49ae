"""Transcripts: the text of a recording (a left message, or a whole call), once per recording.

A row is written when recognition ran (status done) or gave up after every attempt
(status failed); a recording without a row is still to do. The unique recording_id
keeps it to one transcript per recording even if two workers race.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from hotline.kernel.dbtypes import UTCDateTime


class TranscriptStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"  # the audio could not be read after every attempt


class TranscriptKind(StrEnum):
    MESSAGE = "message"  # 语音留言, left while waiting
    CALL = "call"  # the whole call recording


class Transcript(SQLModel, table=True):
    __tablename__ = "transcript"

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(unique=True, foreign_key="recording.id")
    linkedid: str = Field(index=True, max_length=64)
    work_order_number: str = Field(default="", index=True, max_length=32)
    kind: str = Field(max_length=16)
    status: str = Field(default=TranscriptStatus.DONE, max_length=16)
    text: str = Field(default="", sa_type=Text)
    confidence: float | None = None  # mean word confidence, 0-1; None: no words
    model: str = Field(default="", max_length=64)
    language: str = Field(default="", max_length=8)
    audio_seconds: float = 0.0
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)


def save_once(session: Session, transcript: Transcript) -> Transcript:
    """Store the transcript unless its recording has one already (then return that one)."""
    existing = session.exec(
        select(Transcript).where(Transcript.recording_id == transcript.recording_id)
    ).first()
    if existing is not None:
        return existing
    session.add(transcript)
    try:
        session.commit()
    except IntegrityError:  # another worker stored it between the check and the insert
        session.rollback()
        return session.exec(
            select(Transcript).where(Transcript.recording_id == transcript.recording_id)
        ).one()
    session.refresh(transcript)
    return transcript


def transcripts_of_order(session: Session, number: str) -> list[Transcript]:
    return list(
        session.exec(
            select(Transcript)
            .where(Transcript.work_order_number == number, Transcript.status == "done")
            .order_by(col(Transcript.id))
        ).all()
    )
