"""Every table of the product in one metadata, and the engine every writing process opens."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import SQLModel

# Every table module (each package's models.py), so that SQLModel.metadata is complete for Alembic.
from hotline.acd.models import AgentAction  # noqa: F401
from hotline.agi.models import BlockedNumber  # noqa: F401
from hotline.auth.models import AuditEntry  # noqa: F401
from hotline.calls.models import CallRecord  # noqa: F401
from hotline.config.settings import Settings
from hotline.crm_bridge.upstream import capture
from hotline.crm_bridge.upstream.models import UpstreamChange  # noqa: F401
from hotline.kernel.db import make_engine
from hotline.recordings.models import Recording  # noqa: F401
from hotline.workorders.models import WorkOrder  # noqa: F401

metadata = SQLModel.metadata


def open_engine(settings: Settings) -> Engine:
    """The engine of a process that writes records: changes of call records and work orders
    are captured into the upstream outbox (when upstream.url is set)."""
    capture.install(enabled=bool(settings.upstream.url))
    return make_engine(settings.db_url, settings.database)
