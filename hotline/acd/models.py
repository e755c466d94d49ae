"""Tables of the ACD: the audit of every agent and supervisor action; callbacks (acd/callbacks.py
moves them on)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class AgentAction(SQLModel, table=True):
    """One action on an agent through the API or CLI: never updated, only added.

    Listen, whisper and barge (监听/耳语/强插) from a supervisor's phone; log in, log out,
    pause and unpause, `forced` when someone other than the agent did it.
    """

    __tablename__ = "agent_action"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)  # a token's user, or the CLI's --by
    via: str = Field(max_length=8)  # api, cli
    action: str = Field(max_length=16)  # login, logout, pause, unpause, listen, whisper, barge
    agent: str = Field(index=True, max_length=32)
    forced: bool = False
    supervisor_ext: str = Field(default="", max_length=32)  # the phone that listens
    reason: str = Field(default="", max_length=32)  # pause reason code
    result: str = Field(default="ok", max_length=200)  # ok, or the error


class CallbackStatus(StrEnum):
    REQUESTED = "requested"  # due to be put (back) in line at next_attempt_at
    WAITING = "waiting"  # the placeholder holds the citizen's place in the queue
    DIALLING = "dialling"  # an agent answered the placeholder; the citizen is called
    COMPLETED = "completed"  # the citizen answered and was connected
    FAILED = "failed"  # every attempt failed: reported to supervisors


class Callback(SQLModel, table=True):
    __tablename__ = "callback"

    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(index=True, max_length=64)  # the call in which it was asked for
    caller_number: str = Field(max_length=40)
    queue: str = Field(max_length=32)
    position: int = 1  # the place kept in the queue (1 = next)
    request_type: str = Field(default="", max_length=20)
    status: str = Field(default=CallbackStatus.REQUESTED, index=True, max_length=16)
    attempts: int = 0  # times the citizen's phone was rung
    requested_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    agent: str = Field(default="", max_length=64)
    call_linkedid: str = Field(default="", max_length=64)  # of the last callback call
    last_result: str = Field(default="", max_length=40)  # Dial status or why it was put back
