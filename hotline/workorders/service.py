"""One service over the work-order rules: the CLI and the API are thin layers on it.

`WorkOrderService(session, rules, calendar, tz, clock, sms)` performs each step of the
lifecycle, checks its time limits (workorders/timelimits.py), writes the audit trail
(workorders/lifecycle.py) and leaves the commit to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.deadlines import RequestType
from hotline.workorders.drafts import call_was_emergency, new_query_code, next_number
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.lifecycle import Action, record, transition
from hotline.workorders.models import (
    Channel,
    ExtensionRequest,
    OrgUnit,
    WorkOrder,
    WorkOrderAssist,
    WorkOrderAttachment,
    WorkOrderCall,
    WorkOrderEvent,
    WorkOrderStatus,
)
from hotline.workorders.rules import WorkOrderRules
from hotline.workorders.sms import SmsGateway, SmsMessage
from hotline.workorders.timelimits import TimeLimits
from hotline.workorders.units import find_unit

S = WorkOrderStatus


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fmt(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")


@dataclass
class WorkOrderService:
    session: Session
    rules: WorkOrderRules
    calendar: WorkCalendar
    tz: ZoneInfo
    sms: SmsGateway
    clock: Callable[[], datetime] = _utcnow
    tenant_prefix: str = ""
    limits: TimeLimits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = TimeLimits(self.rules, self.calendar, self.tz)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def local(self, t: datetime) -> str:
        return _fmt(t, self.tz)

    # Look-ups -----------------------------------------------------------
    def get(self, number: str) -> WorkOrder:
        order = self.session.exec(select(WorkOrder).where(WorkOrder.number == number)).first()
        if order is None:
            raise WorkOrderError(f"no work order {number!r}")
        return order

    def events(self, order: WorkOrder) -> list[WorkOrderEvent]:
        return list(
            self.session.exec(
                select(WorkOrderEvent)
                .where(WorkOrderEvent.order_id == order.id)
                .order_by(col(WorkOrderEvent.id))
            )
        )

    def orders(self, status: str | None = None, unit: str | None = None) -> list[WorkOrder]:
        q = select(WorkOrder).order_by(col(WorkOrder.accepted_at).desc())
        if status:
            q = q.where(WorkOrder.status == status)
        if unit:
            q = q.where(WorkOrder.lead_unit_id == find_unit(self.session, unit).id)
        return list(self.session.exec(q))

    def coordination_list(self) -> list[WorkOrder]:
        """Disputed orders waiting for the hotline to settle who handles them (art. 19)."""
        return self.orders(status=S.COORDINATING)

    def unit_of(self, order: WorkOrder) -> OrgUnit | None:
        return self.session.get(OrgUnit, order.lead_unit_id) if order.lead_unit_id else None

    # Acceptance ---------------------------------------------------------
    def create(
        self,
        *,
        request_type: str,
        channel: str = Channel.PHONE,
        content: str = "",
        citizen_name: str = "",
        contact: str = "",
        caller_number: str = "",
        topic: str = "",
        district: str = "",
        emergency: bool = False,
        confidential: bool = False,
        linkedid: str = "",
        agent: str = "",
    ) -> WorkOrder:
        """受理: a new order from any channel, in state accepted."""
        rtype = _request_type(request_type)
        chan = _channel(channel)
        now = self.now()
        # a call that brought in 110/119/120/122 makes an emergency (突发) order
        emergency = emergency or bool(linkedid and call_was_emergency(self.session, linkedid))
        order = WorkOrder(
            number=next_number(self.session, self.tenant_prefix, now, self.tz),
            status=S.ACCEPTED,
            request_type=rtype.value,
            channel=chan.value,
            content=content,
            citizen_name=citizen_name,
            contact=contact or caller_number,
            caller_number=caller_number,
            topic=topic,
            district=district,
            emergency=emergency,
            confidential=confidential,
            linkedid=linkedid,
            agent=agent,
            accepted_at=now,
            query_code=new_query_code(),
        )
        self.session.add(order)
        self.session.flush()
        if linkedid:
            self.link_call(order, linkedid, "origin")
        self.session.add(
            WorkOrderEvent(
                order_id=order.id or 0,
                at=now,
                actor=agent or "hotline",
                action="create",
                from_status="",
                to_status=order.status,
                reason=f"channel {chan.value}",
            )
        )
        return order

    def accept(self, number: str, actor: str, **fields: str | bool) -> WorkOrder:
        """The agent completes a draft from a call (content, name, topic, …)."""
        order = self.get(number)
        editable = {"content", "citizen_name", "contact", "topic", "district", "confidential"}
        unknown = sorted(set(fields) - editable)
        if unknown:
            raise WorkOrderError(f"cannot set {unknown}; editable: {sorted(editable)}")
        for key, value in fields.items():
            setattr(order, key, value)
        transition(self.session, order, Action.ACCEPT, actor=actor, at=self.now())
        return order

    def answer(self, number: str, actor: str, reply: str) -> WorkOrder:
        """直接解答: the hotline answers itself and closes the order."""
        order = self.get(number)
        _need(reply, "an answer text")
        now = self.now()
        transition(self.session, order, Action.ANSWER, actor=actor, at=now, reason=reply)
        order.direct_answer = True
        order.reply_text = reply
        order.replied_at = now
        self._closed(order, now)
        return order

    # Dispatch and handling -----------------------------------------------
    def dispatch(
        self,
        number: str,
        actor: str,
        unit: str,
        *,
        assisting: list[str] | None = None,
        special_law_days: int | None = None,
        special_law_ref: str = "",
        reason: str = "",
    ) -> WorkOrder:
        """派单 to a lead unit (and assisting units); sets the deadlines (art. 26)."""
        order = self.get(number)
        lead = find_unit(self.session, unit)
        helpers = [find_unit(self.session, code) for code in assisting or []]
        if special_law_days is not None:
            if special_law_days < 1:
                raise WorkOrderError("special_law_days must be a positive number of working days")
            if not special_law_ref:
                raise WorkOrderError("a special-law deadline needs the law it comes from")
        now = self.now()
        notes = [reason] if reason else []
        if order.status in (S.DRAFT, S.ACCEPTED) and now > self.limits.dispatch_due(
            order.accepted_at
        ):
            notes.append(
                f"late dispatch: accepted {self.local(order.accepted_at)}, due within "
                f"{self.rules.dispatch_within_hours:g} h"
            )
        if order.emergency:
            notes.append(
                f"突发: phone {lead.name} at once on {lead.duty_phone or '(no duty phone)'}"
            )
        transition(
            self.session,
            order,
            Action.DISPATCH,
            actor=actor,
            at=now,
            reason="; ".join(notes),
            unit_id=lead.id,
        )
        if special_law_days is not None:
            order.special_law_days = special_law_days
            order.special_law_ref = special_law_ref
        self._set_dispatch(order, lead, now)
        for helper in helpers:
            if helper.id == lead.id:
                raise WorkOrderError(f"{helper.code} is the lead unit; it cannot also assist")
            exists = self.session.exec(
                select(WorkOrderAssist).where(
                    WorkOrderAssist.order_id == order.id, WorkOrderAssist.unit_id == helper.id
                )
            ).first()
            if exists is None:
                self.session.add(WorkOrderAssist(order_id=order.id or 0, unit_id=helper.id or 0))
        return order

    def _set_dispatch(self, order: WorkOrder, lead: OrgUnit, now: datetime) -> None:
        order.lead_unit_id = lead.id
        order.dispatched_at = now
        order.signed_at = None
        order.replied_at = None
        order.extended_days = 0
        self._set_due(order)
        order.sign_due_at = self.limits.sign_due(order, now)

    def _set_due(self, order: WorkOrder) -> None:
        assert order.dispatched_at is not None
        due = self.limits.close_due(order, order.dispatched_at)
        order.due_at = due
        order.due_date = due.astimezone(self.tz).date() if due else None
        base = self.limits.base_days(order)
        order.due_working_days = (
            None if order.emergency or base is None else base + order.extended_days
        )

    def sign(self, number: str, actor: str) -> WorkOrder:
        """签收 by the lead unit (late signing is allowed, and counts in the assessment)."""
        order = self.get(number)
        now = self.now()
        late = ""
        if order.sign_due_at is not None and now > order.sign_due_at:
            late = f"late: sign due {self.local(order.sign_due_at)}"
        transition(
            self.session,
            order,
            Action.SIGN,
            actor=actor,
            at=now,
            reason=late,
            unit_id=order.lead_unit_id,
        )
        order.signed_at = now
        return order

    def return_order(self, number: str, actor: str, reason: str) -> WorkOrder:
        """退单 within 1 working day of signing (30 min for emergency), with a reason."""
        order = self.get(number)
        _need(reason, "a reason for the return")
        now = self.now()
        if order.status == S.SIGNED and order.signed_at is not None:
            limit = self.limits.return_due(order, order.signed_at)
            if now > limit:
                raise WorkOrderError(
                    f"late return refused: work order {order.number} was signed "
                    f"{self.local(order.signed_at)}; returns were allowed until "
                    f"{self.local(limit)} (art. 26.3); the unit must handle it or ask the "
                    f"hotline to coordinate"
                )
        transition(
            self.session,
            order,
            Action.RETURN,
            actor=actor,
            at=now,
            reason=reason,
            unit_id=order.lead_unit_id,
        )
        return order

    def dispute(self, number: str, actor: str, reason: str) -> WorkOrder:
        """Responsibility disputed: onto the coordination list (art. 19)."""
        order = self.get(number)
        _need(reason, "what the dispute is about")
        transition(self.session, order, Action.DISPUTE, actor=actor, at=self.now(), reason=reason)
        return order

    def reply(self, number: str, actor: str, text: str) -> WorkOrder:
        """答复 by the lead unit to the citizen and the hotline."""
        order = self.get(number)
        _need(text, "the reply text")
        now = self.now()
        late = ""
        if order.due_at is not None and now > order.due_at:
            late = f"overdue: due {self.local(order.due_at)}"
        transition(
            self.session,
            order,
            Action.REPLY,
            actor=actor,
            at=now,
            reason="; ".join(x for x in (late, text) if x),
            unit_id=order.lead_unit_id,
        )
        order.reply_text = text
        order.replied_at = now
        return order

    def assist_reply(self, number: str, unit: str, actor: str, text: str) -> WorkOrder:
        """An assisting unit answers the lead unit (not the citizen)."""
        order = self.get(number)
        helper = find_unit(self.session, unit)
        row = self.session.exec(
            select(WorkOrderAssist).where(
                WorkOrderAssist.order_id == order.id, WorkOrderAssist.unit_id == helper.id
            )
        ).first()
        if row is None:
            raise WorkOrderError(f"{unit} does not assist on work order {number}")
        _need(text, "the reply text")
        if order.status not in (S.DISPATCHED, S.SIGNED):
            raise WorkOrderError(
                f"work order {number} is {order.status}: assisting units reply while it is "
                "dispatched or signed"
            )
        now = self.now()
        row.reply_text = text
        row.replied_at = now
        self.session.add(row)
        record(
            self.session, order, "assist_reply", actor=actor, at=now, reason=text, unit_id=helper.id
        )
        return order

    def reject_reply(self, number: str, actor: str, reason: str) -> WorkOrder:
        order = self.get(number)
        _need(reason, "why the reply is not accepted")
        transition(
            self.session, order, Action.REJECT_REPLY, actor=actor, at=self.now(), reason=reason
        )
        order.replied_at = None
        return order

    def close(self, number: str, actor: str) -> WorkOrder:
        """办结: the hotline closes after the reply; the citizen gets the rating SMS."""
        order = self.get(number)
        now = self.now()
        transition(self.session, order, Action.CLOSE, actor=actor, at=now)
        self._closed(order, now)
        return order

    def _closed(self, order: WorkOrder, now: datetime) -> None:
        order.closed_at = now
        order.satisfaction_asked_at = now
        to = order.contact or order.caller_number
        if to:
            self.sms.send(
                SmsMessage(
                    to=to,
                    text=(
                        f"您的诉求（工单 {order.number}）已办结。请回复：1 满意，"
                        f"2 基本满意，3 不满意。{self.rules.satisfaction_timeout_hours:g} "
                        "小时内未回复视为满意。"
                    ),
                    kind="satisfaction",
                    ref=order.number,
                    at=now,
                )
            )

    def archive(self, number: str, actor: str) -> WorkOrder:
        order = self.get(number)
        now = self.now()
        transition(self.session, order, Action.ARCHIVE, actor=actor, at=now)
        order.archived_at = now
        return order

    def reopen(self, number: str, actor: str, reason: str) -> WorkOrder:
        """重办 after review of a dissatisfied rating: back to the same unit, new deadlines."""
        order = self.get(number)
        _need(reason, "why the order is handled again")
        lead = self.unit_of(order)
        if lead is None:
            raise WorkOrderError(f"work order {number} was answered directly; create a new one")
        now = self.now()
        transition(
            self.session, order, Action.REOPEN, actor=actor, at=now, reason=reason, unit_id=lead.id
        )
        order.satisfaction = ""
        order.closed_at = None
        self._set_dispatch(order, lead, now)
        return order

    # Extensions ---------------------------------------------------------
    def request_extension(
        self, number: str, actor: str, days: int, reason: str
    ) -> ExtensionRequest:
        """延期申请: before the deadline, all extensions together at most the original time."""
        order = self.get(number)
        _need(reason, "a reason for the extension")
        now = self.now()
        self._check_extension(order, days, now)
        req = ExtensionRequest(
            order_id=order.id or 0,
            unit_id=order.lead_unit_id,
            days=days,
            reason=reason,
            requested_at=now,
        )
        self.session.add(req)
        record(
            self.session,
            order,
            "extension_requested",
            actor=actor,
            at=now,
            reason=f"{days} working days: {reason}",
            unit_id=order.lead_unit_id,
        )
        self.session.flush()
        return req

    def _check_extension(self, order: WorkOrder, days: int, now: datetime) -> None:
        """WorkOrderError unless `days` more working days may be asked for now (art. 26.2.9)."""
        number = order.number
        if order.status not in (S.DISPATCHED, S.SIGNED):
            raise WorkOrderError(
                f"work order {number} is {order.status}: an extension is asked for while it is "
                "dispatched or signed"
            )
        if order.emergency:
            raise WorkOrderError(
                f"work order {number} is an emergency (突发) order: "
                f"{self.rules.emergency.close_within_hours} h, no extension"
            )
        if order.due_at is None:
            raise WorkOrderError(f"work order {number} has no deadline to extend")
        if now > order.due_at:
            raise WorkOrderError(
                f"extension refused: work order {number} was due {self.local(order.due_at)}; "
                "an extension must be asked for before the deadline (art. 26.2.9)"
            )
        if days < 1:
            raise WorkOrderError("an extension is a positive number of working days")
        pending = sum(
            r.days
            for r in self.session.exec(
                select(ExtensionRequest).where(
                    ExtensionRequest.order_id == order.id, ExtensionRequest.status == "requested"
                )
            )
        )
        most = self.limits.max_extension_days(order)
        if order.extended_days + pending + days > most:
            raise WorkOrderError(
                f"extension refused: {days} more working days would make "
                f"{order.extended_days + pending + days} in all, beyond the original "
                f"{self.limits.base_days(order)} (at most {most}; it may at most double the "
                "time, art. 26.2.9)"
            )

    def decide_extension(self, request_id: int, actor: str, approve: bool) -> ExtensionRequest:
        """The hotline approves or refuses; approval moves the deadline."""
        req = self.session.get(ExtensionRequest, request_id)
        if req is None:
            raise WorkOrderError(f"no extension request {request_id}")
        if req.status != "requested":
            raise WorkOrderError(f"extension request {request_id} is already {req.status}")
        order = self.session.get(WorkOrder, req.order_id)
        assert order is not None
        now = self.now()
        req.status = "approved" if approve else "refused"
        req.decided_at = now
        req.decided_by = actor
        self.session.add(req)
        if approve:
            order.extended_days += req.days
            self._set_due(order)
            self.session.add(order)
        record(
            self.session,
            order,
            f"extension_{req.status}",
            actor=actor,
            at=now,
            reason=f"{req.days} working days"
            + (f"; now due {self.local(order.due_at)}" if approve and order.due_at else ""),
        )
        return req

    # Links ---------------------------------------------------------------
    def link_call(self, order: WorkOrder, linkedid: str, role: str = "follow_up") -> None:
        exists = self.session.exec(
            select(WorkOrderCall).where(
                WorkOrderCall.order_id == order.id, WorkOrderCall.linkedid == linkedid
            )
        ).first()
        if exists is None:
            self.session.add(WorkOrderCall(order_id=order.id or 0, linkedid=linkedid, role=role))

    def attach(self, number: str, path: str, name: str = "", kind: str = "file") -> None:
        order = self.get(number)
        self.session.add(
            WorkOrderAttachment(
                order_id=order.id or 0, path=path, name=name, kind=kind, added_at=self.now()
            )
        )


def _need(text: str, what: str) -> None:
    if not text or not text.strip():
        raise WorkOrderError(f"{what} is required")


def _request_type(value: str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError as exc:
        allowed = ", ".join(t.value for t in RequestType)
        raise WorkOrderError(f"request type {value!r} unknown; allowed: {allowed}") from exc


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError as exc:
        allowed = ", ".join(c.value for c in Channel)
        raise WorkOrderError(f"channel {value!r} unknown; allowed: {allowed}") from exc
