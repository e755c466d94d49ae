"""`hotline bridge …`: the CRM bridge's backstop, by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from hotline.app.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from hotline.crm_bridge.assembler import FinishedCall

app = typer.Typer(help="The CRM bridge: reconcile the call records with Asterisk's CDR.")

_AGO = re.compile(r"^(\d+)([mhd])$")


def parse_since(text: str, now: datetime) -> datetime:
    """`2026-11-24T08:00` (UTC unless it says otherwise), or an age: `90m`, `6h`, `3d`."""
    m = _AGO.match(text.strip())
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give a time such as 2026-11-24T08:00 or an age such as 90m, 6h, 3d"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command("reconcile")
def reconcile_command(
    since: Annotated[
        str | None,
        typer.Option(
            help="look at calls that ended since this time or age (default: "
            "bridge.reconcile_lookback_hours, not before this bridge first ran)"
        ),
    ] = None,
) -> None:
    """Compare Asterisk's CDR with the call records; create and report the missing calls."""
    import asyncio

    from hotline.app.tables import open_engine
    from hotline.crm_bridge.journal import Journal
    from hotline.crm_bridge.reconcile import made_from_cdr, reconcile, report
    from hotline.crm_bridge.service import store_calls
    from hotline.crm_bridge.worker import journal_path
    from hotline.kernel.db import upgrade
    from hotline.kernel.masking import mask_number
    from hotline.workorders.calendar import load_calendar

    settings = settings_or_exit()
    now = datetime.now(UTC)
    journal = Journal(journal_path(settings))
    try:
        if since is None:
            lookback = timedelta(hours=settings.bridge.reconcile_lookback_hours)
            start = max(journal.started_at(), now - lookback)
        else:
            start = parse_since(since, now)
        in_progress = journal.linkedids()
    finally:
        journal.close()
    upgrade(settings.db_url)
    engine = open_engine(settings)
    calendar, tz = load_calendar(), ZoneInfo(settings.timezone)

    def store(calls: list[FinishedCall]) -> None:
        store_calls(settings, engine, calls, calendar=calendar, tz=tz)

    result = reconcile(settings, engine, store, since=start, now=now, in_progress=in_progress)
    asyncio.run(report(settings, result))
    typer.echo(
        f"{result.examined} calls in Asterisk's CDR since {start.isoformat(timespec='seconds')}; "
        f"{len(result.created)} missing from the call records, created"
    )
    made = made_from_cdr(engine, start)
    new = {c.linkedid for c in result.created}
    typer.echo(
        f"{len(made)} call records since {start.isoformat(timespec='seconds')} made from the "
        f"CDR alone (source cdr; their IVR choice, request type and hangup cause are unknown): "
        f"{len(new)} created now, {len(made) - len(new)} before"
    )
    for r in made:
        began, end = (t.isoformat(timespec="seconds") for t in (r.started_at, r.ended_at))
        typer.echo(
            f"  {r.linkedid}  {mask_number(r.caller_number)}  {r.disposition}  "
            f"queue {r.queue or '-'}  agent {r.agent or '-'}  {began} - {end}  "
            f"source {r.source}{'  (created now)' if r.linkedid in new else ''}"
        )
