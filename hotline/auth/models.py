"""Tables of auth: users, their tokens (hashed, expiring) and the audit log of writes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class User(SQLModel, table=True):
    """A person (or a machine client) who logs in; never deleted, only disabled."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)  # auth/roles.py Role
    agent_id: str = Field(default="", max_length=32)  # role agent: whose phone and calls
    unit: str = Field(default="", max_length=32)  # role unit_staff: the unit's code
    password_hash: str = Field(default="", max_length=255)  # "" : no password login
    disabled: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    failed_logins: int = 0  # in a row; reset by a good login
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthToken(SQLModel, table=True):
    """A bearer token: only its SHA-256 is kept, and it always expires."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=8)  # login, api (a machine client's, made by an admin)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One write through the API (allowed or refused), or a login: only ever added.

    Never holds a password, a token or a full phone number: the path is the route's
    template (/api/blocks/{number}) and the object id is masked when it is a number.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    user: str = Field(max_length=64, index=True)  # "" when no valid token came
    role: str = Field(default="", max_length=16)
    method: str = Field(max_length=8)
    path: str = Field(max_length=200)
    object_id: str = Field(default="", max_length=100)
    status_code: int
    remote: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=200)
