"""`hotline recordings …`: verify, purge, holds, estimate, users, one worker pass."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import cli_user, settings_or_exit
from hotline.auth.errors import UserError
from hotline.kernel.names import RECORDING_ROLES

if TYPE_CHECKING:
    from sqlmodel import Session

    from hotline.config.settings import Settings

app = typer.Typer(
    help="Recordings: integrity, retention, legal holds, access tokens, disk estimate.",
    no_args_is_help=True,
)
user_app = typer.Typer(
    help="Deprecated: `hotline users` (users and tokens of auth/).", no_args_is_help=True
)
app.add_typer(user_app, name="user")


_settings = settings_or_exit


def _session(settings: Settings) -> Session:
    from sqlmodel import Session

    from hotline.app.tables import open_engine
    from hotline.kernel.db import upgrade

    upgrade(settings.db_url)
    return Session(open_engine(settings))


@app.command()
def verify() -> None:
    """Walk the hash chain and the archive: name every missing, altered or extra file."""
    from hotline.recordings.integrity import verify as run_verify

    settings = _settings()
    with _session(settings) as s:
        report = run_verify(s, settings.recordings_archive_dir)
    for problem in report.problems:
        typer.echo(problem)
    verdict = "OK" if report.ok else f"FAILED, {len(report.problems)} problem(s)"
    typer.echo(f"{report.entries} chain entries, {report.files} files checked: {verdict}")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list, delete nothing")] = False,
) -> None:
    """Delete recordings past retention (default 3 years) and not on legal hold."""
    from hotline.recordings.retention import purge as run_purge

    settings = _settings()
    with _session(settings) as s:
        report = run_purge(
            s,
            settings.recordings_archive_dir,
            retention_years=settings.recordings.retention_years,
            dry_run=dry_run,
        )
        verb = "would delete" if dry_run else "deleted"
        for rec in report.deleted:
            typer.echo(
                f"{verb} {rec.archive_path} (call {rec.linkedid}, {rec.created_at:%Y-%m-%d})"
            )
        for rec in report.held:
            typer.echo(f"on hold, kept {rec.archive_path} (call {rec.linkedid})")
    typer.echo(
        f"{len(report.deleted)} {verb}, {len(report.held)} held, {report.kept} within retention"
    )


@app.command()
def estimate(
    calls_per_day: Annotated[int, typer.Option(min=1, help="recorded calls a day")],
    minutes: Annotated[float, typer.Option(min=0.1, help="average call length, minutes")],
) -> None:
    """Disk needed to keep every call for the retention period, per archive format."""
    from hotline.recordings.estimate import estimate as run_estimate
    from hotline.recordings.estimate import human

    settings = _settings()
    years = settings.recordings.retention_years
    typer.echo(
        f"{calls_per_day} calls/day x {minutes:g} min, kept {years} years "
        f"(bytes/min measured by transcoding a sample now):"
    )
    for e in run_estimate(calls_per_day, minutes, years):
        mark = "  <- configured" if e.format == settings.recordings.archive_format else ""
        typer.echo(
            f"  {e.format:5} {e.bytes_per_minute / 1000:7.1f} kB/min"
            f"  {human(e.total_bytes):>10}{mark}"
        )


@app.command()
def hold(
    reason: Annotated[str, typer.Option(help="why (case number, court order)")],
    call: Annotated[str, typer.Option("--call", help="the call id (Linkedid)")] = "",
    work_order: Annotated[str, typer.Option("--work-order", help="work-order number")] = "",
) -> None:
    """Place a legal hold: the recordings are not purged until it is released."""
    from hotline.recordings.retention import place_hold

    settings = _settings()
    with _session(settings) as s:
        try:
            h = place_hold(
                s, reason=reason, by=cli_user(), linkedid=call, work_order_number=work_order
            )
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        s.commit()
        typer.echo(
            f"hold {h.id} placed on {'call ' + call if call else 'work order ' + work_order}"
        )


@app.command()
def release(hold_id: Annotated[int, typer.Argument(metavar="HOLD_ID")]) -> None:
    """Release a legal hold (the recordings fall back to normal retention)."""
    from hotline.recordings.retention import release_hold

    settings = _settings()
    with _session(settings) as s:
        try:
            release_hold(s, hold_id, by=cli_user())
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        s.commit()
    typer.echo(f"hold {hold_id} released")


@app.command()
def holds() -> None:
    """List active legal holds."""
    from sqlmodel import col, select

    from hotline.recordings.models import LegalHold

    settings = _settings()
    with _session(settings) as s:
        rows = s.exec(
            select(LegalHold)
            .where(col(LegalHold.released_at).is_(None))
            .order_by(col(LegalHold.id))
        )
        for h in rows:
            what = f"call {h.linkedid}" if h.linkedid else f"work order {h.work_order_number}"
            typer.echo(f"{h.id:4} {what:40} {h.placed_at:%Y-%m-%d} {h.placed_by}: {h.reason}")


@app.command()
def process() -> None:
    """One pass of the post-processing worker over pending recordings (normally in `hotline up`)."""
    from hotline.app.tables import open_engine
    from hotline.kernel.db import upgrade
    from hotline.recordings.worker import process_pending

    settings = _settings()
    upgrade(settings.db_url)
    for o in process_pending(settings, open_engine(settings)):
        typer.echo(f"{o.linkedid} {o.status}" + (f": {o.alarm.message}" if o.alarm else ""))


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="agent, supervisor or auditor")],
    agent_id: Annotated[str, typer.Option("--agent-id", help="for role agent")] = "",
) -> None:
    """Deprecated: `hotline users add` and POST /api/login. Adds the user (no password)
    if new and prints a token that ends after `auth.token_hours`."""
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session

    from hotline.app.tables import open_engine
    from hotline.auth import tokens, users
    from hotline.kernel.db import upgrade

    typer.echo(
        "deprecated: use `hotline users add` and log in (POST /api/login), "
        "or `hotline users token NAME --expires DAY` for a machine client",
        err=True,
    )
    if role not in RECORDING_ROLES:
        typer.echo(f"role {role!r}; allowed: {', '.join(RECORDING_ROLES)}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    upgrade(settings.db_url)
    with Session(open_engine(settings)) as s:
        try:
            u = users.find(s, name)
        except UserError:
            try:
                u = users.add(s, name, role, "", agent_id=agent_id)
            except UserError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
        if (u.role, u.agent_id) != (role, agent_id if role == "agent" else ""):
            typer.echo(f"user {name} exists as {u.role} {u.agent_id}".rstrip(), err=True)
            raise typer.Exit(2)
        until = datetime.now(UTC) + timedelta(hours=settings.auth.token_hours)
        token = tokens.issue(s, u, until, kind="api", label="recordings user add")
        s.commit()
    typer.echo(token)


@user_app.command("list")
def user_list() -> None:
    """Deprecated: `hotline users list`."""
    from hotline.app.cli_users import list_users

    list_users()


@user_app.command("remove")
def user_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Deprecated: `hotline users disable` (users are disabled, never deleted)."""
    from hotline.app.cli_users import disable

    disable(name)
