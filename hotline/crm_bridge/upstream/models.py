"""The upstream outbox: one row per change of a call record or a work order.

The database is the queue: a row is written in the same transaction as the change it
describes (crm_bridge/upstream/capture.py), so a change is either committed with its
row or not at all, and the sender finds it after any restart.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class ChangeStatus(StrEnum):
    PENDING = "pending"  # waiting for (another) attempt
    DELIVERED = "delivered"  # the platform answered 2xx, or 409 (had it already)
    DEAD = "dead"  # refused (4xx) or out of attempts: the dead-letter list


class UpstreamChange(SQLModel, table=True):
    __tablename__ = "upstream_outbox"
    __table_args__ = (
        Index("ix_upstream_outbox_due", "status", "next_at"),
        Index("ix_upstream_outbox_record", "kind", "ref"),
        # the id is the change's version: SQLite must never hand out a pruned one again
        {"sqlite_autoincrement": True},
    )

    # Also the change's version: it only grows, so the platform keeps the highest.
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # call_record | work_order
    ref: str = Field(max_length=64)  # the call's Linkedid, the order's number
    changed_at: datetime = Field(sa_type=UTCDateTime)
    data: str = Field(sa_type=Text)  # the record as it was after the change (JSON)
    status: str = Field(default=ChangeStatus.PENDING, max_length=12)
    attempts: int = 0
    next_at: datetime = Field(sa_type=UTCDateTime)
    last_status: int | None = None  # HTTP status of the last attempt
    last_error: str = Field(default="", sa_type=Text)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
