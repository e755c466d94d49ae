"""The call record: one row per call, keyed by Asterisk's Linkedid; its emergency linkages;
the transcripts of recordings (calls/transcripts.py stores them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class Disposition(StrEnum):
    ANSWERED = "answered"
    ABANDONED_IN_IVR = "abandoned_in_ivr"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    OVERFLOWED = "overflowed"  # answered by another centre over the overflow trunk


class RecordSource(StrEnum):
    """What a call record was made from."""

    AMI = "ami"  # the call's AMI events (the bridge saw the call)
    CDR = "cdr"  # Asterisk's CDR alone, by the backstop (crm_bridge/reconcile.py)


RECORD_FIELD = "record_field"  # the key of a call-record column's `info` holding its RecordField


@dataclass(frozen=True)
class RecordField:
    """What a column of the call record is besides a column: where the bridge takes its value
    from and whether GET /api/calls shows it. crm_bridge/record.py derives the API's answer
    and the store's copying from these; a column without one is the plain case."""

    # the finished call's attribute it is copied from (crm_bridge/assembler.py FinishedCall),
    # "speech.text" for one inside another; "" the attribute of the column's own name;
    # None: not from the call (set by the store)
    call: str | None = ""
    public: bool = True  # in the API's answer (CallOut)
    listed: bool = False  # a list joined by commas here, a list in the API


def record_field(
    *, call: str | None = "", public: bool = True, listed: bool = False
) -> dict[str, object]:
    """`sa_column_kwargs` of a call-record column that is not the plain case."""
    return {"info": {RECORD_FIELD: RecordField(call=call, public=public, listed=listed)}}


class CallRecord(SQLModel, table=True):
    """The call record's one declaration (the field map): each column, its type, and where it
    is not the plain case (copied from the finished call's attribute of the same name and
    shown by the API), its RecordField. The API's answer and the store's copying follow from
    it (crm_bridge/record.py); the journal keeps the finished call (crm_bridge/journal.py).
    A new field: compute it in the assembler, declare it here, write its migration."""

    __tablename__ = "call_record"

    id: int | None = Field(
        default=None, primary_key=True, sa_column_kwargs=record_field(call=None, public=False)
    )
    linkedid: str = Field(unique=True, index=True, max_length=64)
    tenant: str = Field(max_length=32, sa_column_kwargs=record_field(call=None, public=False))
    caller_number: str = Field(default="", index=True, max_length=40)
    caller_name: str = Field(default="", max_length=80, sa_column_kwargs=record_field(public=False))
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime = Field(sa_type=UTCDateTime)
    ivr_left_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, sa_column_kwargs=record_field(public=False)
    )
    ivr_choice: str = Field(default="", max_length=8)
    ivr_result: str = Field(default="", max_length=32)
    request_type: str = Field(default="", max_length=20)
    emergency: bool = False
    queue: str = Field(default="", max_length=32)
    # every queue joined, in order
    queues: str = Field(default="", max_length=200, sa_column_kwargs=record_field(listed=True))
    queue_joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    wait_seconds: float | None = None
    agent: str = Field(default="", max_length=64)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    talk_seconds: float | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str = Field(default="", max_length=64)
    disposition: str = Field(max_length=24, index=True)
    recording_path: str = Field(
        default="", max_length=255, sa_column_kwargs=record_field(call="recording")
    )
    survey: str = Field(default="", max_length=16)  # the citizen's rating (IVR survey)
    emergency_line: str = Field(default="", max_length=8)  # 110/119/120/122 linked in
    # the widening steps taken while waiting (acd/widening.py), e.g. "secondary@5,general@15",
    # and the pace chosen from the queue's live service level (on-target, behind, unknown)
    widening: str = Field(default="", max_length=120, sa_column_kwargs=record_field(listed=True))
    widening_pace: str = Field(default="", max_length=12)
    # "cdr" while the record is the backstop's; the call's events, if they turn up later,
    # replace it with the full record ("ami")
    source: str = Field(default=RecordSource.AMI.value, max_length=8, index=True)
    # speech navigation (agi/speech.py): the words heard, the mean word confidence, the
    # menu key they chose, an emergency keyword spotted (line and word); a call without
    # speech leaves them as they were
    speech_text: str = Field(
        default="", max_length=100, sa_column_kwargs=record_field(call="speech.text")
    )
    speech_confidence: float | None = Field(
        default=None, sa_column_kwargs=record_field(call="speech.confidence")
    )
    speech_choice: str = Field(
        default="", max_length=8, sa_column_kwargs=record_field(call="speech.choice")
    )
    speech_keyword_line: str = Field(
        default="", max_length=8, sa_column_kwargs=record_field(call="speech.keyword_line")
    )
    speech_keyword: str = Field(
        default="", max_length=32, sa_column_kwargs=record_field(call="speech.keyword")
    )


class EmergencyLinkage(SQLModel, table=True):
    """An emergency line (110/119/120/122) brought into a call: by the IVR or an agent."""

    __tablename__ = "emergency_linkage"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(index=True, max_length=64)  # the call (call_record.linkedid)
    seq: int  # 1, 2, … within the call
    line: str = Field(max_length=8)
    via: str = Field(max_length=8)  # ivr, agent (feature code), api
    agent: str = Field(default="", max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)  # connected, failed, abandoned
    destination: str = Field(default="", max_length=8)  # primary or backup, when connected
    connected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: str = Field(default="", max_length=200)  # "primary:BUSY,backup:ANSWER"


class EmergencyParty(SQLModel, table=True):
    """One party's time in the conference of a linkage (a rejoin is another row)."""

    __tablename__ = "emergency_party"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(index=True, max_length=64)
    seq: int
    role: str = Field(max_length=16)  # citizen, agent, operator
    party: str = Field(default="", max_length=64)  # agent id or line; "" for the citizen
    joined_at: datetime = Field(sa_type=UTCDateTime)
    left_at: datetime = Field(sa_type=UTCDateTime)


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
