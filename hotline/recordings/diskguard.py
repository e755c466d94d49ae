"""Free space where recordings are written and kept, against recordings.min_free_mb.

MixMonitor ignores write errors, so a full spool loses audio silently: warn before that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.recordings.settings import RecordingsConfig


@dataclass(frozen=True)
class SpaceReport:
    name: str  # spool, secondary, archive
    path: Path
    free_mb: float
    low: bool


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_mb(path: Path) -> float:
    st = os.statvfs(_existing(path))
    return st.f_bavail * st.f_frsize / 1_000_000


def today_spool_dir(
    settings: RecordingsConfig, base: str | Path, now: datetime | None = None
) -> Path:
    """The directory Asterisk writes today's recordings into (a mount there counts)."""
    day = (now or datetime.now(ZoneInfo(settings.timezone))).astimezone(ZoneInfo(settings.timezone))
    return settings.root / str(base).lstrip("/") / day.strftime("%Y/%m/%d")


def check_space(settings: RecordingsConfig, now: datetime | None = None) -> list[SpaceReport]:
    limit = settings.recordings.min_free_mb
    places = [("spool", today_spool_dir(settings, settings.recordings_dir, now))]
    if settings.recordings.secondary_dir:
        places.append(("secondary", today_spool_dir(settings, settings.recordings.secondary_dir)))
    places.append(("archive", settings.recordings_archive_dir))
    reports = []
    for name, path in places:
        mb = free_mb(path)
        reports.append(SpaceReport(name, _existing(path), mb, mb < limit))
    return reports


def describe(reports: list[SpaceReport], limit_mb: int) -> str:
    parts = [f"{r.name} {r.free_mb:.0f} MB free{' (LOW)' if r.low else ''}" for r in reports]
    return ", ".join(parts) + f"; alarm below {limit_mb} MB"
