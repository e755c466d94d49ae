"""Build the WorkOrderService from the settings (for the CLI, the API and the bridge)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.workorders.calendar import load_calendar
from hotline.workorders.rules import load_rules
from hotline.workorders.service import WorkOrderService
from hotline.workorders.settings import WorkordersConfig
from hotline.workorders.sms import make_gateway


@contextmanager
def service_session(settings: WorkordersConfig, engine: Engine) -> Iterator[WorkOrderService]:
    """A service on its own session; commits when the block ends without error."""
    rules = load_rules()
    with Session(engine) as session:
        svc = WorkOrderService(
            session=session,
            rules=rules,
            calendar=load_calendar(),
            tz=ZoneInfo(settings.timezone),
            sms=make_gateway(rules.sms, settings.var_dir),
        )
        yield svc
        session.commit()
