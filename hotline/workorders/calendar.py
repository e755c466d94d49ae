"""The Chinese statutory working-day calendar (法定工作日) used for work-order deadlines.

Art. 26.2 of the Guangxi 12345 measures counts handling time in working days: weekends
and public holidays are off, make-up working days (调休, e.g. a working Saturday) are on.
The State Council publishes each year's arrangement late in the year before; the
`chinesecalendar` package (module `chinese_calendar`) carries those tables.

For a year the package has no table for (it raises NotImplementedError), the calendar
falls back to Monday–Friday and logs a warning once per year. The missing year is then
filled in through `hotline/config/holidays.yaml` (see `load_calendar`).

Extra holidays and workdays from that file win over the package in every year, so the
same file also carries local arrangements the national table does not know about (for
instance a regional holiday such as Guangxi's 壮族三月三, or a late correction).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import CONFIG_DIR

log = logging.getLogger(__name__)

DEFAULT_HOLIDAYS_FILE = CONFIG_DIR / "holidays.yaml"

_ONE_DAY = timedelta(days=1)
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_KEYS = ("holidays", "workdays")


class WorkCalendar:
    """Answers "is this date a Chinese statutory working day".

    Order of precedence for a date:
    1. `extra_holidays` → off; `extra_workdays` → on (both from hotline/config/holidays.yaml);
    2. the national table in `chinese_calendar` for the date's year;
    3. if that year has no table: Monday–Friday on, Saturday/Sunday off (with a warning
       logged once per year, unless the extra tables already hold dates of that year).
    """

    def __init__(
        self,
        extra_holidays: Iterable[date] | None = None,
        extra_workdays: Iterable[date] | None = None,
        *,
        source: Path | None = None,
    ) -> None:
        self.extra_holidays: frozenset[date] = frozenset(extra_holidays or ())
        self.extra_workdays: frozenset[date] = frozenset(extra_workdays or ())
        both = self.extra_holidays & self.extra_workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates listed both as extra holidays and extra workdays: {listed}")
        # Where the extra tables come from; only used to tell the operator what to edit.
        self.source: Path = source or DEFAULT_HOLIDAYS_FILE
        self._extra_years = {d.year for d in self.extra_holidays | self.extra_workdays}
        # Years chinese_calendar has no table for; each is warned about once, when found.
        self._missing_years: set[int] = set()

    # Queries -------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        """True if `d` is a working day (a datetime is reduced to its date)."""
        d = _as_date(d)
        if d in self.extra_holidays:
            return False
        if d in self.extra_workdays:
            return True
        if d.year not in self._missing_years:
            try:
                return bool(chinese_calendar.is_workday(d))
            except NotImplementedError as exc:
                self._missing_years.add(d.year)
                self._warn_missing(d.year, str(exc))
        return d.weekday() < 5

    def has_statutory_data(self, year: int) -> bool:
        """True if `chinese_calendar` carries the official table for `year`."""
        if year in self._missing_years:
            return False
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def next_workday(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self.add_workdays(d, 1)

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before `d`."""
        return self.add_workdays(d, -1)

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (n > 0), or before it (n < 0).

        `start` itself is never counted, whether or not it is a working day; n == 0
        returns `start` unchanged.
        """
        current = _as_date(start)
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            current += step
            if self.is_workday(current):
                remaining -= 1
        return current

    # Internals -----------------------------------------------------------
    def _warn_missing(self, year: int, detail: str) -> None:
        if year in self._extra_years:
            # The operator has already entered that year's arrangement.
            return
        log.warning(
            "The statutory holiday table for %d is missing (chinese_calendar: %s); "
            "counting Monday-Friday as working days, so deadlines in %d ignore public "
            "holidays and make-up working days (调休). Add the State Council's arrangement "
            "for %d to %s, e.g. 'holidays: [%d-01-01, ...]' and 'workdays: [...]', "
            "or upgrade the chinesecalendar package.",
            year,
            detail,
            year,
            year,
            self.source,
            year,
        )


def _as_date(d: date) -> date:
    # datetime is a subclass of date; compare and step by calendar date only.
    return date(d.year, d.month, d.day) if type(d) is not date else d


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader that keeps YAML timestamps as text, so bad dates can be reported
    with their position instead of failing inside the YAML parser."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_TextDateLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _parse_entry(path: Path, key: str, index: int, entry: object) -> date:
    where = f"{path}: {key}[{index}]"
    text = entry if isinstance(entry, str) else None
    m = _ISO_DATE_RE.match(text.strip()) if text is not None else None
    if m is None:
        raise ConfigError(f"{where}: {entry!r} is not a date; write it as YYYY-MM-DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ConfigError(f"{where}: {entry!r} is not a valid date ({exc})") from exc


def load_calendar(path: Path | None = None) -> WorkCalendar:
    """Build the WorkCalendar from `hotline/config/holidays.yaml` (or `path`).

    The file is optional at its default location (no extras then); a `path` given
    explicitly must exist. Any mistake raises ConfigError naming the file and entry.
    """
    explicit = path is not None
    path = path or DEFAULT_HOLIDAYS_FILE
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: holiday file does not exist")
        return WorkCalendar(source=path)
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDateLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read holiday file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if loaded is None:
        return WorkCalendar(source=path)
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with keys {list(_KEYS)}")
    unknown = sorted(str(k) for k in loaded if k not in _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown keys {unknown}; allowed: {list(_KEYS)}")
    tables: dict[str, set[date]] = {}
    for key in _KEYS:
        entries = loaded.get(key)
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise ConfigError(f"{path}: {key} must be a list of dates (YYYY-MM-DD)")
        tables[key] = {_parse_entry(path, key, i, e) for i, e in enumerate(entries)}
    both = tables["holidays"] & tables["workdays"]
    if both:
        listed = ", ".join(d.isoformat() for d in sorted(both))
        raise ConfigError(f"{path}: dates listed both under holidays and workdays: {listed}")
    return WorkCalendar(tables["holidays"], tables["workdays"], source=path)
