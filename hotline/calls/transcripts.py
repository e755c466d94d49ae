"""Transcripts: the text of a recording (a left message, or a whole call), once per recording.

A row (the `transcript` table, calls/models.py) is written when recognition ran (status
done) or gave up after every attempt (status failed); a recording without a row is still
to do. The unique recording_id keeps it to one transcript per recording even if two
workers race.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.calls.models import Transcript


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
