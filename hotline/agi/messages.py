"""A message left while waiting (key 2) becomes a draft work order with its recording.

The recording is also put on the recordings worker's queue (a `recording` row),
so it is archived, hashed and kept like every call recording.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from hotline.recordings.models import Recording, message_key
from hotline.workorders.calendar import load_calendar
from hotline.workorders.deadlines import RequestType
from hotline.workorders.drafts import draft_from_call
from hotline.workorders.models import WorkOrder, WorkOrderAttachment

MESSAGE_CONTENT = "市民排队等候时的语音留言，内容见录音附件，请收听后补全工单。"
# A message that chose no request type in the menu is a consultation until an agent says otherwise.
DEFAULT_TYPE = RequestType.CONSULTATION


def order_from_message(
    session: Session,
    *,
    linkedid: str,
    caller: str,
    path: str,
    request_type: str,
    now: datetime,
    tz: ZoneInfo,
) -> WorkOrder:
    """Once per message: the same file twice (the h extension after the route) adds nothing."""
    attached = session.exec(
        select(WorkOrderAttachment).where(
            WorkOrderAttachment.path == path, WorkOrderAttachment.kind == "recording"
        )
    ).first()
    if attached is not None:
        order = session.get(WorkOrder, attached.order_id)
        if order is not None:
            return order
    rtype = request_type if request_type in set(RequestType) else DEFAULT_TYPE
    order = draft_from_call(
        session,
        linkedid=linkedid,
        request_type=rtype,
        caller_number=caller,
        agent="",
        emergency=False,
        accepted_at=now,
        calendar=load_calendar(),
        tz=tz,
    )
    if order is None:  # cannot happen with a valid type; keeps mypy and readers honest
        raise ValueError(f"no work order for request type {rtype!r}")
    if not order.content:
        order.content = MESSAGE_CONTENT
    session.add(order)
    session.flush()
    session.add(
        WorkOrderAttachment(
            order_id=order.id or 0, kind="recording", name="语音留言", path=path, added_at=now
        )
    )
    key = message_key(linkedid)
    if session.exec(select(Recording).where(Recording.linkedid == key)).first() is None:
        session.add(
            Recording(linkedid=key, path=path, created_at=now, work_order_number=order.number)
        )
    return order
