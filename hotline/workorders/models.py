"""The 12345 work order (工单) and the tables around it (units, audit trail, tasks, duty calls).

Times are aware UTC (`UTCDateTime`); dates shown to people are local (settings.timezone).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.kernel.dbtypes import UTCDateTime


class WorkOrderStatus(StrEnum):
    """The lifecycle (art. 24–28); allowed moves are in workorders/lifecycle.py."""

    DRAFT = "draft"  # 草稿: created from the call, the agent completes it
    ACCEPTED = "accepted"  # 已受理
    DISPATCHED = "dispatched"  # 已派发
    SIGNED = "signed"  # 已签收
    RETURNED = "returned"  # 已退单 (back at the hotline)
    COORDINATING = "coordinating"  # 协调中: disputed responsibility (art. 19)
    REPLIED = "replied"  # 已答复 (by the lead unit)
    CLOSED = "closed"  # 已办结: satisfaction SMS sent
    RATED = "rated"  # 已评价: satisfaction known (or defaulted after 24 h)
    ARCHIVED = "archived"  # 已归档


class Channel(StrEnum):
    """Where the request came in (art. 2, 25)."""

    PHONE = "phone"  # 电话
    WEBSITE = "website"  # 热线网站
    WECHAT = "wechat"  # 微信
    APP = "app"  # 移动客户端
    CHAIRMAN_MAILBOX = "chairman_mailbox"  # 主席信箱
    GOV_PLATFORM = "gov_platform"  # 数字政务一体化平台
    GOV_WEBSITE = "gov_website"  # 中国政府网


class UnitKind(StrEnum):
    """Units form a tree: region → city → county workstation; departments; sub-centres."""

    REGION = "region"  # 自治区
    CITY = "city"  # 设区市
    WORKSTATION = "workstation"  # 县级工作站
    DEPARTMENT = "department"  # 成员单位 / 承办单位
    SUB_CENTRE = "sub_centre"  # 分中心


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    DEFAULT_SATISFIED = "default_satisfied"  # 24 小时未回复，默认满意 (art. 27.2)


class OrgUnit(SQLModel, table=True):
    """A hotline, workstation, department or sub-centre (member / handling unit)."""

    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name: str = Field(max_length=80)
    kind: str = Field(default=UnitKind.DEPARTMENT, max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id")
    leader: str = Field(default="", max_length=80)
    liaison: str = Field(default="", max_length=80)  # 联络员
    staff: str = Field(default="", max_length=400)  # comma-separated names
    duty_phone: str = Field(default="", max_length=40)  # 值班电话
    liaison_phone: str = Field(default="", max_length=40)  # 联络员电话 (duty calls escalate here)
    sms_number: str = Field(default="", max_length=40)  # warnings go here (the liaison's)


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=32)
    status: str = Field(default=WorkOrderStatus.DRAFT, max_length=16)
    request_type: str = Field(max_length=20)
    channel: str = Field(default=Channel.PHONE, max_length=20)
    emergency: bool = False
    confidential: bool = False  # art. 22: kept from view, never published
    # The number the order was filed from (the caller ID of the originating call).
    caller_number: str = Field(default="", index=True, max_length=40)
    # The originating call; "" for orders from other channels. Later calls: WorkOrderCall.
    linkedid: str = Field(default="", index=True, max_length=64)
    agent: str = Field(default="", max_length=64)
    citizen_name: str = Field(default="", max_length=80)
    contact: str = Field(default="", max_length=40)  # callback number the citizen gave
    topic: str = Field(default="", index=True, max_length=40)
    district: str = Field(default="", index=True, max_length=40)
    content: str = Field(default="", sa_type=Text)
    query_code: str = Field(default="", max_length=12)  # 查询码 for self-service lookup
    lead_unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    accepted_at: datetime = Field(sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Deadlines of the current dispatch (art. 26); due_at is the close-and-reply deadline.
    due_date: date | None = None
    due_working_days: int | None = None
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    sign_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    special_law_days: int | None = None  # art. 26.2.8: a special law's deadline wins
    special_law_ref: str = Field(default="", max_length=120)
    extended_days: int = 0  # approved extension (art. 26.2.9)
    reply_text: str = Field(default="", sa_type=Text)
    direct_answer: bool = False  # 直接解答: closed by the hotline without dispatch
    satisfaction: str = Field(default="", max_length=20)
    satisfaction_asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    satisfaction_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WorkOrderEvent(SQLModel, table=True):
    """The audit trail: one row per transition (who, when, from, to, why)."""

    __tablename__ = "work_order_event"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=24)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    reason: str = Field(default="", sa_type=Text)


class WorkOrderAssist(SQLModel, table=True):
    """An assisting unit (协办): it replies to the lead unit, not to the citizen."""

    __tablename__ = "work_order_assist"
    __table_args__ = (UniqueConstraint("order_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id")
    reply_text: str = Field(default="", sa_type=Text)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WorkOrderCall(SQLModel, table=True):
    """A call linked to an order (the original, a follow-up, a revisit), by Linkedid."""

    __tablename__ = "work_order_call"
    __table_args__ = (UniqueConstraint("order_id", "linkedid"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    linkedid: str = Field(index=True, max_length=64)
    role: str = Field(default="origin", max_length=16)  # origin | follow_up | revisit


class WorkOrderAttachment(SQLModel, table=True):
    """A file attached to an order: a photo from the unit, a message recording, …"""

    __tablename__ = "work_order_attachment"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    kind: str = Field(default="file", max_length=16)  # file | recording
    name: str = Field(default="", max_length=120)
    path: str = Field(max_length=255)
    added_at: datetime = Field(sa_type=UTCDateTime)


class ExtensionRequest(SQLModel, table=True):
    """延期申请 (art. 26.2.9): asked before the deadline, approved by the hotline."""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    days: int
    reason: str = Field(sa_type=Text)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="requested", max_length=12)  # requested|approved|refused
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str = Field(default="", max_length=64)


class RevisitTask(SQLModel, table=True):
    """人工回访 (art. 27.3): an agent calls the citizen back; the result goes to the unit."""

    __tablename__ = "revisit_task"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="work_order.id", index=True)
    linkedid: str = Field(default="", index=True, max_length=64)  # the call it came from
    caller_number: str = Field(max_length=40)
    reason: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=12)  # open | calling | done | failed
    created_at: datetime = Field(sa_type=UTCDateTime)
    agent: str = Field(default="", max_length=64)
    call_linkedid: str = Field(default="", max_length=64)  # the outbound revisit call
    result: str = Field(default="", max_length=24)  # reached | no_answer | busy | failed
    note: str = Field(default="", sa_type=Text)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SupervisionNotice(SQLModel, table=True):
    """短信预警 / 黄牌 / 红牌 / 整改通知 (art. 34), one per order and kind."""

    __tablename__ = "supervision_notice"
    __table_args__ = (UniqueConstraint("order_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    kind: str = Field(max_length=12)  # warning | yellow | red
    issued_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", sa_type=Text)


class Appeal(SQLModel, table=True):
    """申诉 (art. 32): a unit disputes a figure of its assessment."""

    __tablename__ = "appeal"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    assessment_year: int
    figure: str = Field(max_length=40)
    reason: str = Field(sa_type=Text)
    filed_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="filed", max_length=12)


class KnowledgeQuestion(SQLModel, table=True):
    """知识提问 (art. 29.2): the unit answers within 3 working days."""

    __tablename__ = "knowledge_question"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="org_unit.id", index=True)
    question: str = Field(sa_type=Text)
    asked_by: str = Field(default="", max_length=64)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    entry_id: int | None = Field(default=None, foreign_key="knowledge_entry.id")


class KnowledgeEntry(SQLModel, table=True):
    """知识库条目: what agents search while a citizen waits."""

    __tablename__ = "knowledge_entry"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    tags: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# Duty calls: an emergency order phoned to its unit (workorders/duty_calls.py) ----------
class DutyStatus(StrEnum):
    WAITING = "waiting"  # the next attempt is due at next_attempt_at
    RINGING = "ringing"  # an attempt is under way
    SIGNED = "signed"  # the unit signed (by key 1, or in the system)
    ACKNOWLEDGED = "acknowledged"  # a supervisor pressed 1: they follow it up
    UNREACHED = "unreached"  # every step of the plan failed: alarm
    STOPPED = "stopped"  # the order moved on otherwise (re-dispatched, answered, …)


class Outcome(StrEnum):
    """How one duty-call attempt ended (duty_call_attempt.outcome)."""

    SIGNED = "signed"
    ACKNOWLEDGED = "acknowledged"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    NO_KEY = "no_key"  # answered, heard the message, pressed nothing
    HUNG_UP = "hung_up"  # answered and hung up before pressing 1
    SIGN_FAILED = "sign_failed"  # pressed 1 but the database refused: tried again
    FAILED = "failed"  # refused by Asterisk, the network, the FastAGI server
    LOST = "lost"  # no outcome ever came (a restart mid-call)


class DutyCall(SQLModel, table=True):
    __tablename__ = "duty_call"
    __table_args__ = (UniqueConstraint("order_id", "dispatched_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    unit_id: int = Field(foreign_key="org_unit.id")
    dispatched_at: datetime = Field(sa_type=UTCDateTime)  # the dispatch it belongs to
    sign_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=DutyStatus.WAITING, index=True, max_length=16)
    step: int = 0  # attempts begun: the index of the next step of the plan
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_by: str = Field(default="", max_length=64)  # role and masked number, or the actor
    minutes_late: int | None = None  # past the 30-minute sign limit; 0 on time
    overdue_alarm_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class DutyCallAttempt(SQLModel, table=True):
    __tablename__ = "duty_call_attempt"

    id: int | None = Field(default=None, primary_key=True)
    duty_call_id: int = Field(foreign_key="duty_call.id", index=True)
    order_id: int = Field(foreign_key="work_order.id", index=True)
    role: str = Field(max_length=16)
    number: str = Field(max_length=40)
    try_no: int = 1
    started_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", max_length=16)  # "" while under way
    detail: str = Field(default="", max_length=120)
