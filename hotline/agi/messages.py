"""A message left while waiting (key 2) becomes a draft work order with its recording.

The recording is also put on the recordings worker's queue (a `recording` row),
so it is archived, hashed and kept like every call recording. The `message` route
makes the order during the call; the message sweep (agi/message_sweep.py) makes it
later when the database or the FastAGI server was down then.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hotline.recordings.models import Recording, message_key
from hotline.workorders.calendar import load_calendar
from hotline.workorders.deadlines import RequestType
from hotline.workorders.drafts import draft_from_call
from hotline.workorders.models import WorkOrder, WorkOrderAttachment
from hotline.workorders.revisits import order_for_call

MESSAGE_CONTENT = "市民排队等候时的语音留言，内容见录音附件，请收听后补全工单。"
# A message that chose no request type in the menu is a consultation until an agent says otherwise.
DEFAULT_TYPE = RequestType.CONSULTATION


def ordered_message(session: Session, path: str) -> WorkOrder | None:
    """The work order a message file (Asterisk's path) is attached to, if any."""
    attached = session.exec(
        select(WorkOrderAttachment).where(
            WorkOrderAttachment.path == path, WorkOrderAttachment.kind == "recording"
        )
    ).first()
    return session.get(WorkOrder, attached.order_id) if attached is not None else None


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
    """Once per message, in a session of its own: the same file again (the h extension
    after the route, the sweep, two sweepers at once) adds nothing and gives its order.

    A call that has an order already (an agent filed one, the bridge drafted one) gets
    the message attached to that order rather than a second one.
    """
    order = ordered_message(session, path)
    if order is not None:
        return order
    try:
        return _new_order(session, linkedid, caller, path, request_type, now, tz)
    except IntegrityError:
        # another process wrote this message's recordings row (the guard) and committed:
        # its order is the one
        session.rollback()
        order = ordered_message(session, path)
        if order is None:  # another clash (two new orders drew the same number): try later
            raise
        return order


def _new_order(
    session: Session,
    linkedid: str,
    caller: str,
    path: str,
    request_type: str,
    now: datetime,
    tz: ZoneInfo,
) -> WorkOrder:
    # first, so that of two makers of the same order the second fails on its unique key
    rec = Recording(linkedid=message_key(linkedid), path=path, created_at=now)
    session.add(rec)
    session.flush()
    order = order_for_call(session, linkedid)
    if order is None:
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
    rec.work_order_number = order.number
    return order
