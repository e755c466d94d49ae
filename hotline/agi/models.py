"""Tables of the voice service: blocked numbers (art. 21.4) and their audit, surveys."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class BlockedNumber(SQLModel, table=True):
    """A number a supervisor blocked for malicious use (恶意骚扰, art. 21.4)."""

    __tablename__ = "blocked_number"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(index=True, max_length=40)
    reason: str = Field(max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: str = Field(default="", max_length=64)
    refused_calls: int = 0


class BlockAudit(SQLModel, table=True):
    """Who blocked, unblocked, and which calls a block refused: never updated, only added."""

    __tablename__ = "block_audit"

    id: int | None = Field(default=None, primary_key=True)
    block_id: int | None = Field(default=None, foreign_key="blocked_number.id", index=True)
    number: str = Field(index=True, max_length=40)
    action: str = Field(max_length=16)  # added, removed, refused-call
    actor: str = Field(max_length=64)  # a person, or "ivr"
    detail: str = Field(default="", max_length=200)  # reason, or the refused call's Linkedid
    at: datetime = Field(sa_type=UTCDateTime)


class SurveyResult(SQLModel, table=True):
    """The citizen's rating after the agent hung up (1 满意, 2 基本满意, 3 不满意)."""

    __tablename__ = "survey_result"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(index=True, max_length=64)
    caller_number: str = Field(default="", max_length=40)
    answer: str = Field(max_length=16)  # satisfied, basically, dissatisfied, none
    answered_at: datetime = Field(sa_type=UTCDateTime)
