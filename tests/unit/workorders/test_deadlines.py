"""Work-order deadlines (art. 26.2) on the real 2025/2026 Chinese statutory calendar.

Expected dates are worked out by hand from the calendar facts below (checked against
chinese_calendar in `test_calendar_facts`), never by calling the code under test.

Calendar facts used (chinesecalendar 1.11.0):
- 2025 National Day + Mid-autumn: Wed 1 Oct – Wed 8 Oct off; make-up working days
  Sun 28 Sep and Sat 11 Oct.
- 2026 New Year: Thu 1 Jan, Fri 2 Jan off; make-up working day Sun 4 Jan.
- 2026 Spring Festival: Sun 15 Feb – Mon 23 Feb off; make-up working days Sat 14 Feb
  and Sat 28 Feb.
- June 2025 after the Dragon Boat Festival (Mon 2 Jun): ordinary weeks, Mon–Fri.
- 2099: no table; fallback counts Mon–Fri (1 Jan 2099 is a Thursday).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from hotline.kernel.errors import ConfigError
from hotline.workorders.calendar import WorkCalendar, load_calendar
from hotline.workorders.deadlines import (
    CHAIRMAN_MAILBOX_DAYS,
    HANDLING_DAYS,
    RequestType,
    due_date,
    due_datetime,
    handling_days,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")

C = RequestType.CONSULTATION
H = RequestType.HELP
S = RequestType.SUGGESTION
CP = RequestType.COMPLAINT
R = RequestType.REPORT
P = RequestType.PRAISE


def sh(y: int, mo: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


# --- the calendar facts themselves -------------------------------------------------

FACTS = [
    # (date, is_workday, holiday name or None)
    (date(2025, 6, 13), True, None),  # Fri
    (date(2025, 6, 14), False, None),  # Sat
    (date(2025, 9, 28), True, "National Day"),  # Sun, make-up working day
    (date(2025, 9, 30), True, None),  # Tue, last day before the break
    (date(2025, 10, 1), False, "National Day"),
    (date(2025, 10, 6), False, "Mid-autumn Festival"),
    (date(2025, 10, 8), False, "National Day"),
    (date(2025, 10, 9), True, None),  # Thu, first day back
    (date(2025, 10, 11), True, "National Day"),  # Sat, make-up working day
    (date(2026, 1, 1), False, "New Year's Day"),
    (date(2026, 1, 2), False, "New Year's Day"),
    (date(2026, 1, 4), True, "New Year's Day"),  # Sun, make-up working day
    (date(2026, 2, 14), True, "Spring Festival"),  # Sat, make-up working day
    (date(2026, 2, 15), False, "Spring Festival"),
    (date(2026, 2, 23), False, "Spring Festival"),  # Mon
    (date(2026, 2, 24), True, None),  # Tue, first day back
    (date(2026, 2, 28), True, "Spring Festival"),  # Sat, make-up working day
]


@pytest.mark.parametrize(("day", "workday", "name"), FACTS, ids=[str(f[0]) for f in FACTS])
def test_calendar_facts(day: date, workday: bool, name: str | None, cal: WorkCalendar) -> None:
    assert chinese_calendar.is_workday(day) is workday
    assert chinese_calendar.get_holiday_detail(day)[1] == name
    assert cal.is_workday(day) is workday


# --- the deadline table -------------------------------------------------------------

CASES = [
    # Ordinary weekend: dispatched Fri 13 Jun 2025; day 1 = Mon 16 Jun.
    ("weekend-consultation", C, sh(2025, 6, 13), date(2025, 6, 17)),
    ("weekend-help", H, sh(2025, 6, 13), date(2025, 6, 18)),
    ("weekend-suggestion", S, sh(2025, 6, 13), date(2025, 6, 20)),
    ("weekend-complaint", CP, sh(2025, 6, 13), date(2025, 6, 27)),
    ("weekend-report", R, sh(2025, 6, 13), date(2025, 6, 27)),
    ("weekend-praise", P, sh(2025, 6, 13), None),
    # Dispatched on the Saturday: same clock as Friday.
    ("saturday-consultation", C, sh(2025, 6, 14), date(2025, 6, 17)),
    # Mid-week: dispatched Wed 11 Jun; day 1 = Thu 12 Jun.
    ("midweek-consultation", C, sh(2025, 6, 11), date(2025, 6, 13)),
    ("midweek-help", H, sh(2025, 6, 11), date(2025, 6, 16)),
    ("midweek-suggestion", S, sh(2025, 6, 11), date(2025, 6, 18)),
    ("midweek-complaint", CP, sh(2025, 6, 11), date(2025, 6, 25)),
    # The hour of dispatch does not matter, only the local day.
    ("first-second", C, sh(2025, 6, 10, 0, 0).replace(second=1), date(2025, 6, 12)),
    ("last-minute", C, sh(2025, 6, 10, 23, 59), date(2025, 6, 12)),
    # National Day 2025: dispatched Tue 30 Sep; 1–8 Oct off; day 1 = Thu 9 Oct,
    # day 3 = Sat 11 Oct (make-up working day).
    ("national-day-consultation", C, sh(2025, 9, 30, 15), date(2025, 10, 10)),
    ("national-day-help", H, sh(2025, 9, 30, 15), date(2025, 10, 11)),
    ("national-day-suggestion", S, sh(2025, 9, 30, 15), date(2025, 10, 14)),
    ("national-day-complaint", CP, sh(2025, 9, 30, 15), date(2025, 10, 21)),
    ("national-day-report", R, sh(2025, 9, 30, 15), date(2025, 10, 21)),
    ("national-day-praise", P, sh(2025, 9, 30, 15), None),
    # Dispatched during the holiday (Fri 3 Oct, Mon 6 Oct): clock starts Thu 9 Oct.
    ("in-holiday-consultation", C, sh(2025, 10, 3, 11), date(2025, 10, 10)),
    ("in-holiday-complaint", CP, sh(2025, 10, 3, 11), date(2025, 10, 21)),
    ("mid-autumn-help", H, sh(2025, 10, 6, 20), date(2025, 10, 11)),
    # Dispatched Thu 9 Oct: day 1 = Fri 10, day 2 = Sat 11 (make-up) ...
    ("back-consultation", C, sh(2025, 10, 9), date(2025, 10, 11)),
    ("back-help", H, sh(2025, 10, 9), date(2025, 10, 13)),
    ("back-suggestion", S, sh(2025, 10, 9), date(2025, 10, 15)),
    ("back-complaint", CP, sh(2025, 10, 9), date(2025, 10, 22)),
    # Make-up Sunday 28 Sep 2025: dispatched Fri 26 Sep; day 1 = Sun 28 Sep.
    ("makeup-sunday-consultation", C, sh(2025, 9, 26, 17), date(2025, 9, 29)),
    ("makeup-sunday-help", H, sh(2025, 9, 26, 17), date(2025, 9, 30)),
    ("makeup-sunday-suggestion", S, sh(2025, 9, 26, 17), date(2025, 10, 10)),
    ("makeup-sunday-complaint", CP, sh(2025, 9, 26, 17), date(2025, 10, 16)),
    # Dispatched on that make-up Sunday itself: day 1 = Mon 29 Sep.
    ("on-makeup-sunday-consultation", C, sh(2025, 9, 28), date(2025, 9, 30)),
    ("on-makeup-sunday-help", H, sh(2025, 9, 28), date(2025, 10, 9)),
    ("on-makeup-sunday-suggestion", S, sh(2025, 9, 28), date(2025, 10, 11)),
    ("on-makeup-sunday-complaint", CP, sh(2025, 9, 28), date(2025, 10, 17)),
    # New Year 2026 across the year end: dispatched Wed 31 Dec 2025; 1–3 Jan off,
    # day 1 = Sun 4 Jan (make-up working day).
    ("new-year-consultation", C, sh(2025, 12, 31, 14), date(2026, 1, 5)),
    ("new-year-help", H, sh(2025, 12, 31, 14), date(2026, 1, 6)),
    ("new-year-suggestion", S, sh(2025, 12, 31, 14), date(2026, 1, 8)),
    ("new-year-complaint", CP, sh(2025, 12, 31, 14), date(2026, 1, 15)),
    # Spring Festival 2026: dispatched Fri 13 Feb; day 1 = Sat 14 Feb (make-up),
    # 15–23 Feb off, day 2 = Tue 24 Feb, day 6 = Sat 28 Feb (make-up).
    ("spring-festival-consultation", C, sh(2026, 2, 13, 16), date(2026, 2, 24)),
    ("spring-festival-help", H, sh(2026, 2, 13, 16), date(2026, 2, 25)),
    ("spring-festival-suggestion", S, sh(2026, 2, 13, 16), date(2026, 2, 27)),
    ("spring-festival-complaint", CP, sh(2026, 2, 13, 16), date(2026, 3, 5)),
    ("spring-festival-report", R, sh(2026, 2, 13, 16), date(2026, 3, 5)),
    ("spring-festival-praise", P, sh(2026, 2, 13, 16), None),
    # Dispatched on the make-up Sat 14 Feb: day 1 = Tue 24 Feb, day 5 = Sat 28 Feb.
    ("on-makeup-saturday-consultation", C, sh(2026, 2, 14), date(2026, 2, 25)),
    ("on-makeup-saturday-help", H, sh(2026, 2, 14), date(2026, 2, 26)),
    ("on-makeup-saturday-suggestion", S, sh(2026, 2, 14), date(2026, 2, 28)),
    ("on-makeup-saturday-complaint", CP, sh(2026, 2, 14), date(2026, 3, 6)),
    # Dispatched Fri 27 Feb: day 1 = Sat 28 Feb (make-up), day 2 = Mon 2 Mar.
    ("before-makeup-saturday-consultation", C, sh(2026, 2, 27), date(2026, 3, 2)),
    ("before-makeup-saturday-help", H, sh(2026, 2, 27), date(2026, 3, 3)),
    # Time zones: the local (Shanghai) day of dispatch counts, not the UTC day.
    # Fri 13 Jun 18:00 Shanghai = Fri 10:00 UTC.
    ("tz-friday-evening-local", C, utc(2025, 6, 13, 10), date(2025, 6, 17)),
    # Fri 13 Jun 17:00 UTC = Sat 14 Jun 01:00 Shanghai (same clock: weekend).
    ("tz-saturday-in-shanghai", C, utc(2025, 6, 13, 17), date(2025, 6, 17)),
    # Thu 12 Jun 17:00 UTC = Fri 13 Jun 01:00 Shanghai: day 1 = Mon 16 Jun
    # (were the UTC day used, day 1 would be Fri 13 Jun and the due date Mon 16 Jun).
    ("tz-thursday-utc-friday-local", C, utc(2025, 6, 12, 17), date(2025, 6, 17)),
    # Fri 10 Oct 2025 18:00 Shanghai = 10:00 UTC: day 1 = Sat 11 Oct (make-up).
    ("tz-friday-before-makeup", C, utc(2025, 10, 10, 10), date(2025, 10, 13)),
    # Fri 10 Oct 17:00 UTC = Sat 11 Oct 01:00 Shanghai (the make-up day): day 1 = Mon.
    ("tz-makeup-saturday-in-shanghai", C, utc(2025, 10, 10, 17), date(2025, 10, 14)),
]


@pytest.mark.parametrize(
    ("request_type", "dispatched_at", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_due_date(
    request_type: RequestType, dispatched_at: datetime, expected: date | None, cal: WorkCalendar
) -> None:
    assert due_date(request_type, dispatched_at, cal, SH) == expected


def test_tz_argument_sets_the_local_day(cal: WorkCalendar) -> None:
    # Thu 12 Jun 2025 17:00 UTC is still Thursday in UTC: day 1 = Fri 13, day 2 = Mon 16.
    assert due_date(C, utc(2025, 6, 12, 17), cal, UTC) == date(2025, 6, 16)
    assert due_date(C, utc(2025, 6, 12, 17), cal, SH) == date(2025, 6, 17)


def test_same_instant_any_offset(cal: WorkCalendar) -> None:
    instant = utc(2025, 10, 10, 17)
    in_ny = instant.astimezone(ZoneInfo("America/New_York"))
    assert due_date(C, in_ny, cal, SH) == due_date(C, instant, cal, SH) == date(2025, 10, 14)


@pytest.mark.parametrize(
    ("request_type", "dispatched_at", "expected"),
    [
        # Chairman's mailbox, 3 working days whatever the type.
        (C, sh(2025, 9, 30, 15), date(2025, 10, 11)),
        (CP, sh(2025, 9, 30, 15), date(2025, 10, 11)),
        (P, sh(2025, 9, 30, 15), date(2025, 10, 11)),
        (S, sh(2026, 2, 13), date(2026, 2, 25)),
    ],
)
def test_chairman_mailbox(
    request_type: RequestType, dispatched_at: datetime, expected: date, cal: WorkCalendar
) -> None:
    assert CHAIRMAN_MAILBOX_DAYS == 3
    assert due_date(request_type, dispatched_at, cal, SH, CHAIRMAN_MAILBOX_DAYS) == expected


@pytest.mark.parametrize("bad", [0, -1])
def test_days_override_must_be_positive(bad: int, cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="days_override"):
        due_date(C, sh(2025, 6, 13), cal, SH, days_override=bad)


def test_handling_days_table() -> None:
    assert dict(HANDLING_DAYS) == {C: 2, H: 3, S: 5, CP: 10, R: 10, P: None}
    assert handling_days(RequestType("complaint")) == 10
    assert [t.value for t in RequestType] == [
        "consultation",
        "help",
        "complaint",
        "report",
        "suggestion",
        "praise",
    ]


@pytest.mark.parametrize("func", [due_date, due_datetime])
def test_naive_datetime_refused(func: Callable[..., object], cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        func(C, datetime(2025, 6, 13, 10, 0), cal, SH)


@pytest.mark.parametrize(
    ("request_type", "dispatched_at", "expected"),
    [
        (C, sh(2025, 9, 30, 15), datetime(2025, 10, 10, 23, 59, 59, tzinfo=SH)),
        (H, utc(2025, 9, 30, 7), datetime(2025, 10, 11, 23, 59, 59, tzinfo=SH)),
        (CP, utc(2026, 2, 13, 17), datetime(2026, 3, 6, 23, 59, 59, tzinfo=SH)),
        (P, sh(2025, 9, 30, 15), None),
    ],
)
def test_due_datetime(
    request_type: RequestType,
    dispatched_at: datetime,
    expected: datetime | None,
    cal: WorkCalendar,
) -> None:
    got = due_datetime(request_type, dispatched_at, cal, SH)
    assert got == expected
    if got is not None:
        assert got.tzinfo is SH
        assert got.utcoffset() is not None


# --- WorkCalendar primitives ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 10, 10), 1, date(2025, 10, 11)),  # make-up Saturday
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # make-up Sunday
        (date(2025, 6, 13), 0, date(2025, 6, 13)),
        (date(2025, 6, 14), 0, date(2025, 6, 14)),  # not moved even if off
        (date(2025, 10, 9), -1, date(2025, 9, 30)),
        (date(2025, 9, 29), -1, date(2025, 9, 28)),  # make-up Sunday
        (date(2026, 2, 24), -2, date(2026, 2, 13)),  # back over Spring Festival
    ],
)
def test_add_workdays(start: date, n: int, expected: date, cal: WorkCalendar) -> None:
    assert cal.add_workdays(start, n) == expected


def test_next_and_previous_workday(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2026, 2, 13)) == date(2026, 2, 14)
    assert cal.next_workday(date(2026, 2, 14)) == date(2026, 2, 24)
    assert cal.next_workday(datetime(2026, 2, 14, 23, 0, tzinfo=SH)) == date(2026, 2, 24)
    assert cal.previous_workday(date(2026, 2, 24)) == date(2026, 2, 14)


def test_extras_win_in_a_year_with_data() -> None:
    # A local arrangement the national table lacks (e.g. a regional holiday).
    monday, saturday = date(2026, 4, 20), date(2026, 4, 18)
    cal = WorkCalendar(extra_holidays={monday}, extra_workdays={saturday})
    assert not cal.is_workday(monday)
    assert cal.is_workday(saturday)
    # Thu 16 Apr: day 1 Fri 17, day 2 Sat 18 (extra), day 3 Tue 21 (Mon 20 extra off).
    assert due_date(H, sh(2026, 4, 16), cal, SH) == date(2026, 4, 21)


def test_date_in_both_extras_refused() -> None:
    with pytest.raises(ValueError, match="2099-01-05"):
        WorkCalendar(extra_holidays={date(2099, 1, 5)}, extra_workdays={date(2099, 1, 5)})


# --- fallback for a year without data ------------------------------------------------

FALLBACK = [
    # No table for 2099: Mon–Fri. Dispatched Fri 2 Jan 2099; day 1 = Mon 5 Jan.
    (C, date(2099, 1, 6)),
    (H, date(2099, 1, 7)),
    (S, date(2099, 1, 9)),
    (CP, date(2099, 1, 16)),
    (R, date(2099, 1, 16)),
    (P, None),
]


@pytest.mark.parametrize(("request_type", "expected"), FALLBACK)
def test_fallback_counts_monday_to_friday(request_type: RequestType, expected: date | None) -> None:
    cal = WorkCalendar()
    assert not cal.has_statutory_data(2099)
    assert cal.has_statutory_data(2025)
    assert due_date(request_type, sh(2099, 1, 2), cal, SH) == expected


FALLBACK_EXTRAS = [
    # Extra holidays Mon 5 + Tue 6 Jan 2099, extra workday Sat 10 Jan.
    # Dispatched Fri 2 Jan: day 1 Wed 7, 2 Thu 8, 3 Fri 9, 4 Sat 10, 5 Mon 12 ... 10 Mon 19.
    (C, date(2099, 1, 8)),
    (H, date(2099, 1, 9)),
    (S, date(2099, 1, 12)),
    (CP, date(2099, 1, 19)),
]


@pytest.mark.parametrize(("request_type", "expected"), FALLBACK_EXTRAS)
def test_fallback_honours_extras(request_type: RequestType, expected: date) -> None:
    cal = WorkCalendar(
        extra_holidays={date(2099, 1, 5), date(2099, 1, 6)},
        extra_workdays={date(2099, 1, 10)},
    )
    assert due_date(request_type, sh(2099, 1, 2), cal, SH) == expected


def test_fallback_plain_days() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2099, 1, 1))  # Thursday; no New Year without a table
    assert not cal.is_workday(date(2099, 1, 3))  # Saturday
    assert not cal.is_workday(date(2099, 1, 4))  # Sunday


def test_fallback_warns_once_per_year(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="hotline.workorders.calendar"):
        for day in range(1, 20):
            cal.is_workday(date(2099, 1, day))
            cal.is_workday(date(2098, 1, day))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "2099" in warnings[0] or "2099" in warnings[1]
    assert all("holidays.yaml" in w and "missing" in w for w in warnings)


def test_no_warning_when_year_is_configured(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar(extra_holidays={date(2099, 1, 1)})
    with caplog.at_level(logging.WARNING, logger="hotline.workorders.calendar"):
        assert not cal.is_workday(date(2099, 1, 1))
        assert cal.is_workday(date(2099, 1, 2))
    assert not caplog.records


def test_fallback_when_package_lacks_a_year(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate a chinesecalendar without the 2025 table: Wed 1 Oct 2025 becomes a weekday.
    real = chinese_calendar.is_workday

    def no_2025(d: date) -> bool:
        if d.year == 2025:
            raise NotImplementedError("no available data for year 2025")
        return bool(real(d))

    monkeypatch.setattr(chinese_calendar, "is_workday", no_2025)
    cal = WorkCalendar()
    assert cal.is_workday(date(2025, 10, 1))
    assert not cal.is_workday(date(2025, 9, 28))  # the make-up Sunday is unknown too
    # Dispatched Tue 30 Sep: day 1 Wed 1 Oct, day 2 Thu 2 Oct.
    assert due_date(C, sh(2025, 9, 30), cal, SH) == date(2025, 10, 2)
    # 2026 still comes from the package.
    assert not cal.is_workday(date(2026, 1, 1))


# --- load_calendar --------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_default_file() -> None:
    cal = load_calendar()
    assert isinstance(cal, WorkCalendar)
    assert cal.source.name == "holidays.yaml"


@pytest.mark.parametrize(
    "text",
    [
        "holidays:\n  - 2099-01-05  # Mon\n  - 2099-01-06\nworkdays:\n  - 2099-01-10\n",
        "holidays: [2099-01-05, '2099-01-06']\nworkdays: [\"2099-01-10\"]\n",
    ],
    ids=["block", "flow-quoted"],
)
def test_load_calendar(tmp_path: Path, text: str) -> None:
    cal = load_calendar(write(tmp_path, text))
    assert cal.extra_holidays == {date(2099, 1, 5), date(2099, 1, 6)}
    assert cal.extra_workdays == {date(2099, 1, 10)}
    assert due_date(CP, sh(2099, 1, 2), cal, SH) == date(2099, 1, 19)


@pytest.mark.parametrize(
    "text",
    ["", "# nothing yet\n", "holidays: []\nworkdays: []\n", "holidays:\nworkdays:\n"],
)
def test_load_empty(tmp_path: Path, text: str) -> None:
    cal = load_calendar(write(tmp_path, text))
    assert cal.extra_holidays == frozenset()
    assert cal.extra_workdays == frozenset()


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("holidays: [2099-01-05\n", ["not valid YAML"]),
        ("holidays: [2099-02-30]\n", ["holidays[0]", "2099-02-30", "not a valid date"]),
        ("holidays: [2099-13-01]\n", ["holidays[0]", "2099-13-01"]),
        ("workdays: [2099-01-10, tomorrow]\n", ["workdays[1]", "'tomorrow'"]),
        ("workdays: [2099-01-10 09:00:00]\n", ["workdays[0]", "2099-01-10 09:00:00"]),
        ("holidays: [20990105]\n", ["holidays[0]", "20990105"]),
        ("holidays: 2099-01-05\n", ["holidays must be a list"]),
        ("- 2099-01-05\n", ["top level must be a mapping"]),
        ("holiday: [2099-01-05]\n", ["unknown keys", "holiday"]),
        ("holidays: [2099-01-05]\nworkdays: [2099-01-05]\n", ["both", "2099-01-05"]),
    ],
    ids=[
        "bad-yaml",
        "bad-day",
        "bad-month",
        "not-a-date",
        "datetime",
        "integer",
        "not-a-list",
        "top-level-list",
        "unknown-key",
        "in-both",
    ],
)
def test_load_calendar_errors(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_calendar(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_load_missing_explicit_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="does not exist"):
        load_calendar(path)
