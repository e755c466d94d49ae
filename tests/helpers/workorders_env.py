"""Helpers for tests of work orders: a migrated SQLite database and a settable clock."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.kernel.db import make_engine, upgrade
from hotline.workorders.calendar import WorkCalendar
from hotline.workorders.rules import WorkOrderRules
from hotline.workorders.service import WorkOrderService
from hotline.workorders.sms import FileSink
from hotline.workorders.units import add_unit

_template: Path | None = None


def migrated_engine(directory: Path) -> Engine:
    """A fresh SQLite database in `directory`, at every migration head.

    The migrations run once per process; each test gets a copy of that database.
    """
    global _template
    if _template is None or not _template.exists():
        template_dir = Path(tempfile.mkdtemp(prefix="hotline-wo-"))
        upgrade(f"sqlite:///{template_dir / 'template.db'}")
        _template = template_dir / "template.db"
    target = directory / "hotline.db"
    shutil.copyfile(_template, target)
    return make_engine(f"sqlite:///{target}")


class FixedClock:
    """A clock a test moves by hand: `clock()` is now, `clock.advance(hours=25)`."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when.astimezone(UTC)
        return self.now


def make_service(
    session: Session, clock: FixedClock, outbox: Path, rules: WorkOrderRules | None = None
) -> WorkOrderService:
    """A service on the real statutory calendar, Shanghai time, SMS to a file."""
    return WorkOrderService(
        session=session,
        rules=rules or WorkOrderRules(),
        calendar=WorkCalendar(),
        tz=ZoneInfo("Asia/Shanghai"),
        sms=FileSink(outbox),
        clock=clock,
    )


def sample_units(session: Session) -> None:
    """A small tree: region, a city, a county workstation, three departments."""
    add_unit(session, code="gx", name="广西 12345", kind="region")
    add_unit(session, code="nn", name="南宁市 12345", kind="city", parent="gx")
    add_unit(session, code="nn-xn", name="兴宁区工作站", kind="workstation", parent="nn")
    add_unit(
        session,
        code="ga",
        name="市公安局",
        parent="nn",
        duty_phone="0771-110",
        sms_number="13700000001",
    )
    add_unit(session, code="zj", name="市住建局", parent="nn", sms_number="13700000002")
    add_unit(session, code="sw", name="市水务局", parent="nn", sms_number="13700000003")
