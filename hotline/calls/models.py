"""The call record: one row per call, keyed by Asterisk's Linkedid."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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


class CallRecord(SQLModel, table=True):
    __tablename__ = "call_record"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(unique=True, index=True, max_length=64)
    tenant: str = Field(max_length=32)
    caller_number: str = Field(default="", index=True, max_length=40)
    caller_name: str = Field(default="", max_length=80)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ivr_left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ivr_choice: str = Field(default="", max_length=8)
    ivr_result: str = Field(default="", max_length=32)
    request_type: str = Field(default="", max_length=20)
    emergency: bool = False
    queue: str = Field(default="", max_length=32)
    queues: str = Field(default="", max_length=200)  # every queue joined, in order
    queue_joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    wait_seconds: float | None = None
    agent: str = Field(default="", max_length=64)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    talk_seconds: float | None = None
    ended_at: datetime = Field(sa_type=UTCDateTime)
    hangup_cause: int | None = None
    hangup_cause_text: str = Field(default="", max_length=64)
    disposition: str = Field(max_length=24, index=True)
    recording_path: str = Field(default="", max_length=255)
    survey: str = Field(default="", max_length=16)  # the citizen's rating (IVR survey)
    emergency_line: str = Field(default="", max_length=8)  # 110/119/120/122 linked in
    # the widening steps taken while waiting (acd/widening.py), e.g. "secondary@5,general@15",
    # and the pace chosen from the queue's live service level (on-target, behind, unknown)
    widening: str = Field(default="", max_length=120)
    widening_pace: str = Field(default="", max_length=12)
    # "cdr" while the record is the backstop's; the call's events, if they turn up later,
    # replace it with the full record ("ami")
    source: str = Field(default=RecordSource.AMI.value, max_length=8, index=True)
    # speech navigation (agi/speech.py): the words heard, the mean word confidence, the
    # menu key they chose, an emergency keyword spotted (line and word)
    speech_text: str = Field(default="", max_length=100)
    speech_confidence: float | None = None
    speech_choice: str = Field(default="", max_length=8)
    speech_keyword_line: str = Field(default="", max_length=8)
    speech_keyword: str = Field(default="", max_length=32)


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
