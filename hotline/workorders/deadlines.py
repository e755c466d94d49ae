"""Work-order handling deadlines (工单办理时限), art. 26.2 of the Guangxi 12345 measures.

A handling unit closes and replies within a number of working days that depends on the
request type. The clock starts on the first working day after the day of dispatch
(自派单的下一工作日起计算): whatever the hour of dispatch, and whether dispatch fell on a
working day, a weekend or a holiday, that first working day is day 1, and the deadline
is the end (23:59:59 local time) of day N.

Not covered here: emergency (突发) orders, which run in hours (sign within 30 minutes,
close within 24 hours, art. 26.2.7); deadlines set by special laws (art. 26.2.8) and
extensions (延期, at most doubling the time, art. 26.2.9) are passed in as
`days_override`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from hotline.workorders.calendar import WorkCalendar


class RequestType(StrEnum):
    """The kind of citizen request (诉求类型, art. 20, 25)."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬


# Working days to close and reply, per request type (art. 26.2.1–26.2.5).
# Praise (表扬) has no handling deadline: it is closed on acceptance, nothing is
# dispatched for handling, so its entry is None.
HANDLING_DAYS: Mapping[RequestType, int | None] = MappingProxyType(
    {
        RequestType.CONSULTATION: 2,  # 咨询类 2 个工作日 (26.2.1)
        RequestType.HELP: 3,  # 求助类 3 个工作日 (26.2.2)
        RequestType.SUGGESTION: 5,  # 建议类 5 个工作日 (26.2.3)
        RequestType.COMPLAINT: 10,  # 投诉类 10 个工作日 (26.2.4)
        RequestType.REPORT: 10,  # 举报类 10 个工作日 (26.2.5)
        RequestType.PRAISE: None,  # 表扬: closed on acceptance, no deadline
    }
)

# Orders from the chairman's mailbox (主席信箱) are closed within 3 working days whatever
# their type (art. 26.2.6): due_date(..., days_override=CHAIRMAN_MAILBOX_DAYS).
CHAIRMAN_MAILBOX_DAYS = 3

# The deadline is the end of the last working day, local time.
END_OF_DAY = time(23, 59, 59)


def handling_days(request_type: RequestType) -> int | None:
    """Working days allowed for `request_type`; None for praise (no deadline)."""
    return HANDLING_DAYS[RequestType(request_type)]


def due_date(
    request_type: RequestType,
    dispatched_at: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    days_override: int | None = None,
) -> date | None:
    """The last day (local date in `tz`) on which the order must be closed.

    `dispatched_at` must be timezone-aware; it is converted to `tz` first, so the day of
    dispatch is the local calendar day. `days_override` (>= 1) replaces the type's
    working days, e.g. CHAIRMAN_MAILBOX_DAYS, a special law's deadline or an approved
    extension. Returns None when there is no deadline (praise without an override).
    """
    if dispatched_at.tzinfo is None or dispatched_at.utcoffset() is None:
        raise ValueError(
            f"dispatched_at must be timezone-aware, got naive {dispatched_at.isoformat()}"
        )
    if days_override is not None:
        if isinstance(days_override, bool) or days_override < 1:
            raise ValueError(f"days_override must be a positive number of days: {days_override}")
        days: int | None = days_override
    else:
        days = handling_days(request_type)
    if days is None:
        return None
    dispatch_day = dispatched_at.astimezone(tz).date()
    # Day 1 is the first working day strictly after the dispatch day; day N is the
    # N-th working day strictly after it.
    return calendar.add_workdays(dispatch_day, days)


def due_datetime(
    request_type: RequestType,
    dispatched_at: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    days_override: int | None = None,
) -> datetime | None:
    """23:59:59 local time (`tz`, tz-aware) on the due date; None when no deadline."""
    day = due_date(request_type, dispatched_at, calendar, tz, days_override)
    if day is None:
        return None
    return datetime.combine(day, END_OF_DAY, tzinfo=tz)
