"""The 12345 work order (工单). The skeleton creates drafts from answered calls."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from hotline.dbtypes import UTCDateTime


class WorkOrderStatus(StrEnum):
    DRAFT = "draft"  # 草稿: created from the call, the agent completes it


class Channel(StrEnum):
    PHONE = "phone"  # 电话


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=32)
    status: str = Field(default=WorkOrderStatus.DRAFT, max_length=16)
    request_type: str = Field(max_length=20)
    channel: str = Field(default=Channel.PHONE, max_length=20)
    emergency: bool = False
    caller_number: str = Field(default="", index=True, max_length=40)
    linkedid: str = Field(default="", unique=True, index=True, max_length=64)
    agent: str = Field(default="", max_length=64)
    accepted_at: datetime = Field(sa_type=UTCDateTime)
    due_date: date | None = None
    due_working_days: int | None = None
