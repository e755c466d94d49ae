"""`hotline reload` (the voice menu, without a restart) and `hotline block …` (art. 21.4)."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from hotline.agi.errors import BlockError
from hotline.app.cli_settings import cli_user, settings_or_exit
from hotline.kernel.errors import ConfigError

if TYPE_CHECKING:
    from hotline.config.settings import Settings

block_app = typer.Typer(
    help="Blocked numbers (art. 21.4): malicious callers hear a notice; emergencies still pass.",
    no_args_is_help=True,
)


_settings = settings_or_exit


def reload() -> None:
    """Check hotline/config/ivr.yaml and swap it into the running FastAGI server (no restart).

    Calls already in the menu finish on the old one. A file with mistakes is refused
    and the running menu stays.
    """
    from hotline.agi.menu import menu_file
    from hotline.agi.reload import STATUS_FILE
    from hotline.agi.worker import config_loader, pid_file

    settings = _settings()
    try:
        config_loader(settings)()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    path = pid_file(settings)
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        typer.echo(f"{menu_file()} is valid, but no IVR server runs (no live {path})", err=True)
        raise typer.Exit(1) from None
    status = settings.run_dir / STATUS_FILE
    before = status.stat().st_mtime_ns if status.exists() else 0
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if status.exists() and status.stat().st_mtime_ns != before:
            result = json.loads(status.read_text())
            if result.get("ok"):
                typer.echo(f"IVR reloaded from {menu_file()} (generation {result['generation']})")
                return
            typer.echo(f"reload refused, the running menu stays:\n{result['error']}", err=True)
            raise typer.Exit(2)
        time.sleep(0.1)
    typer.echo(f"the IVR server (pid {pid}) did not confirm the reload in 10 s", err=True)
    raise typer.Exit(1)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from hotline.app.tables import open_engine
    from hotline.kernel.db import upgrade

    upgrade(settings.db_url)
    return open_engine(settings)


@block_app.command("add")
def block_add(
    number: str,
    reason: Annotated[str, typer.Option(help="why (malicious insults, harassment, …)")],
    days: Annotated[int | None, typer.Option(help="expires after this many days")] = None,
    by: Annotated[str, typer.Option(help="the supervisor (default: your login)")] = "",
) -> None:
    """Block a number; it hears a short notice (the emergency lines stay open)."""
    from sqlmodel import Session

    from hotline.agi import blocks

    settings = _settings()
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    with Session(_engine(settings)) as s:
        try:
            block = blocks.add_block(
                s, number, reason=reason, actor=by or cli_user(), expires_at=expires
            )
        except BlockError as exc:
            typer.echo(f"block {number}: {exc}", err=True)
            raise typer.Exit(2) from exc
        s.commit()
        until = _local(settings, block.expires_at) if block.expires_at else "until removed"
        typer.echo(f"blocked {block.number} ({until}): {block.reason}")


@block_app.command("remove")
def block_remove(
    number: str,
    by: Annotated[str, typer.Option(help="the supervisor (default: your login)")] = "",
) -> None:
    """Lift the block of a number."""
    from sqlmodel import Session

    from hotline.agi import blocks

    settings = _settings()
    with Session(_engine(settings)) as s:
        try:
            blocks.remove_block(s, number, actor=by or cli_user())
        except BlockError as exc:
            typer.echo(f"block {number}: {exc}", err=True)
            raise typer.Exit(2) from exc
        s.commit()
    typer.echo(f"unblocked {number}")


@block_app.command("list")
def block_list(
    all_: Annotated[bool, typer.Option("--all", help="also expired and removed blocks")] = False,
    audit: Annotated[bool, typer.Option(help="show the audit trail instead")] = False,
) -> None:
    """Blocked numbers (or, with --audit, who blocked, unblocked, and refused calls)."""
    from sqlmodel import Session

    from hotline.agi import blocks

    settings = _settings()
    with Session(_engine(settings)) as s:
        if audit:
            for a in blocks.audit(s):
                typer.echo(
                    f"{_local(settings, a.at)}  {a.action:13} {a.number:16} {a.actor:12} {a.detail}"
                )
            return
        rows = blocks.list_blocks(s, include_inactive=all_)
        if not rows:
            typer.echo("no blocked numbers")
        for b in rows:
            until = _local(settings, b.expires_at) if b.expires_at else "until removed"
            state = f" removed by {b.removed_by}" if b.removed_at else ""
            typer.echo(
                f"{b.number:16} {until:17} by {b.created_by:12} refused {b.refused_calls:3} "
                f"calls  {b.reason}{state}"
            )


def _local(settings: Settings, at: datetime | None) -> str:
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def callbacks_list(
    status: Annotated[
        str, typer.Option(help="requested, waiting, dialling, completed or failed; empty: all")
    ] = "",
    limit: Annotated[int, typer.Option(help="newest first, at most this many")] = 50,
) -> None:
    """Callbacks asked for while waiting (key 1): where each one is, and the failed ones."""
    from sqlmodel import Session, col, select

    from hotline.acd.models import Callback, CallbackStatus

    allowed = [s.value for s in CallbackStatus]
    if status and status not in allowed:
        typer.echo(f"--status {status!r}: allowed are {', '.join(allowed)}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    with Session(_engine(settings)) as s:
        q = select(Callback).order_by(col(Callback.requested_at).desc()).limit(limit)
        if status:
            q = q.where(Callback.status == status)
        rows = list(s.exec(q))
    if not rows:
        typer.echo("no callbacks")
    for cb in rows:
        typer.echo(
            f"{cb.id:5} {_local(settings, cb.requested_at)}  {cb.caller_number:16} "
            f"{cb.queue:12} place {cb.position:<3} {cb.status:10} attempts {cb.attempts} "
            f"{cb.last_result} {cb.agent}"
        )
