"""Each deadline of one work order (art. 25.2, 26), from the rules and the calendar.

Ordinary orders count statutory working days from the working day after the event
(dispatch, signing) and end at 23:59:59 local time; emergency (突发) orders count
clock minutes and hours. All results are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.deadlines import RequestType, due_datetime
from hotline.workorders.models import Channel, WorkOrder
from hotline.workorders.rules import WorkOrderRules


@dataclass(frozen=True)
class TimeLimits:
    rules: WorkOrderRules
    calendar: WorkCalendar
    tz: ZoneInfo

    def end_of_workday(self, start: datetime, days: int) -> datetime:
        """23:59:59 local of the `days`-th working day after the local day of `start`."""
        end = due_datetime(RequestType.COMPLAINT, start, self.calendar, self.tz, days)
        assert end is not None
        return end.astimezone(UTC)

    def dispatch_due(self, accepted_at: datetime) -> datetime:
        """转派 within 24 hours of acceptance (25.2)."""
        return (accepted_at + timedelta(hours=self.rules.dispatch_within_hours)).astimezone(UTC)

    def base_days(self, order: WorkOrder) -> int | None:
        """Working days before any extension: special law > chairman's mailbox > type."""
        if order.special_law_days is not None:
            return order.special_law_days
        if order.channel == Channel.CHAIRMAN_MAILBOX:
            return self.rules.chairman_mailbox_days
        return self.rules.handling_days.for_type(RequestType(order.request_type))

    def close_due(self, order: WorkOrder, dispatched_at: datetime) -> datetime | None:
        """办结答复 deadline; None for praise (no deadline)."""
        if order.emergency and order.special_law_days is None:
            hours = self.rules.emergency.close_within_hours
            return (dispatched_at + timedelta(hours=hours)).astimezone(UTC)
        days = self.base_days(order)
        if days is None:
            return None
        return self.end_of_workday(dispatched_at, days + order.extended_days)

    def sign_due(self, order: WorkOrder, dispatched_at: datetime) -> datetime:
        if order.emergency:
            minutes = self.rules.emergency.sign_within_minutes
            return (dispatched_at + timedelta(minutes=minutes)).astimezone(UTC)
        return self.end_of_workday(dispatched_at, self.rules.sign_within_working_days)

    def return_due(self, order: WorkOrder, signed_at: datetime) -> datetime:
        """退单 within 1 working day of signing, 30 minutes for emergency (26.3)."""
        if order.emergency:
            minutes = self.rules.emergency.return_within_minutes
            return (signed_at + timedelta(minutes=minutes)).astimezone(UTC)
        return self.end_of_workday(signed_at, self.rules.return_within_working_days)

    def max_extension_days(self, order: WorkOrder) -> int:
        """At most the original time again (26.2.9): the whole extension, all requests."""
        days = self.base_days(order)
        return int((days or 0) * self.rules.extension_max_ratio)

    def knowledge_due(self, asked_at: datetime) -> datetime:
        return self.end_of_workday(asked_at, self.rules.knowledge_answer_working_days)
