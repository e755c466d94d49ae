"""Change capture: every flush that adds or changes a call record or a work order also
writes its snapshot into the upstream outbox, on the same connection and transaction.

A session event rather than calls sprinkled over the code: the bridge, the work-order
service, the API, the CLI and the callback service all change these rows, and a path
added later is covered without being told. Only ORM flushes are seen; a bulk
`update()` of these tables would bypass it (there is none).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from hotline.calls.models import CallRecord
from hotline.crm_bridge.upstream.models import ChangeStatus, UpstreamChange
from hotline.workorders.models import OrgUnit, WorkOrder

log = logging.getLogger(__name__)

CALL_RECORD, WORK_ORDER = "call_record", "work_order"
KINDS = (CALL_RECORD, WORK_ORDER)
# The query code (查询码) is the citizen's key to the self-service lookup: it stays here.
_NOT_SENT = {"id", "query_code", "lead_unit_id"}

_enabled = False  # set by install: whether upstream.url is configured


def set_enabled(value: bool | None) -> None:
    """Force capture on or off (tests, tools); None: off, as before any install."""
    global _enabled
    _enabled = bool(value)


def enabled() -> bool:
    return _enabled


def install(enabled: bool) -> None:
    """Listen to every session's flushes (idempotent); capture only if `enabled` (the
    process's upstream.url is set: the composition root says so, app/tables.py)."""
    set_enabled(enabled)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(obj: CallRecord | WorkOrder, lead_unit: str | None = None) -> dict[str, Any]:
    """The row's columns as JSON values (times ISO-8601 UTC), without local-only ones."""
    state = inspect(obj)
    data = {
        col.key: _plain(getattr(obj, col.key))
        for col in state.mapper.column_attrs
        if col.key not in _NOT_SENT
    }
    if isinstance(obj, WorkOrder):
        data["lead_unit"] = lead_unit or ""
    return data


def _unit_code(session: Session, unit_id: int | None) -> str:
    if unit_id is None:
        return ""
    code = session.connection().execute(select(col(OrgUnit.code)).where(col(OrgUnit.id) == unit_id))
    return str(code.scalar() or "")


def change_rows(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for what this flush added or really changed."""
    rows = []
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, CallRecord):
            kind, ref, unit = CALL_RECORD, obj.linkedid, None
        elif isinstance(obj, WorkOrder):
            kind, ref, unit = WORK_ORDER, obj.number, _unit_code(session, obj.lead_unit_id)
        else:
            continue
        if obj not in session.new and not session.is_modified(obj, include_collections=False):
            continue  # attributes set to the values they had (a replayed call)
        rows.append(
            {
                "kind": kind,
                "ref": ref,
                "changed_at": now,
                "data": json.dumps(snapshot(obj, unit), ensure_ascii=False, sort_keys=True),
                "status": ChangeStatus.PENDING.value,
                "attempts": 0,
                "next_at": now,
                "last_error": "",
            }
        )
    return rows


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # new/dirty and attribute history still show the flush's changes here
    if not enabled():
        return
    with session.no_autoflush:
        rows = change_rows(session, datetime.now(UTC))
    if rows:
        session.connection().execute(insert(UpstreamChange), rows)
