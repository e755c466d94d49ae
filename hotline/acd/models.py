"""Tables of the ACD: the audit of every agent and supervisor action."""

from __future__ import annotations

from datetime import datetime

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
