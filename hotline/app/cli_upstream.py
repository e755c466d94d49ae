"""`hotline upstream ...`: the push to the regional platform (status, dead letters,
replay) and the reference receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import settings_or_exit
from hotline.kernel.masking import mask_numbers_in

if TYPE_CHECKING:
    from sqlmodel import Session

    from hotline.config.settings import Settings

app = typer.Typer(
    help="Upstream sync to the regional platform: status, dead letters, replay, receiver.",
    no_args_is_help=True,
)


def _session(settings: Settings) -> Session:
    from sqlmodel import Session

    from hotline.app.tables import open_engine
    from hotline.kernel.db import upgrade

    upgrade(settings.db_url)
    return Session(open_engine(settings))


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What waits, what was delivered, the dead letters, the last error."""
    from hotline.crm_bridge.upstream import outbox

    settings = settings_or_exit()
    with _session(settings) as s:
        summary = outbox.summary(s).as_dict()
    report = {"url": settings.upstream.url or None, **summary}
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    typer.echo(f"platform        {settings.upstream.url or '(none: upstream.url is not set)'}")
    for name in ("pending", "delivered", "dead", "oldest_pending", "last_delivered"):
        typer.echo(f"{name:15} {report[name] if report[name] is not None else '-'}")
    if report["last_error"]:
        typer.echo(f"last error      {report['last_error']}")


@app.command()
def dead(
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The dead-letter list: changes the platform refused, oldest first."""
    from hotline.crm_bridge.upstream import outbox

    settings = settings_or_exit()
    with _session(settings) as s:
        rows = outbox.dead(s, limit)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "kind": r.kind,
                        "ref": r.ref,
                        "changed_at": r.changed_at.isoformat(),
                        "attempts": r.attempts,
                        "last_status": r.last_status,
                        "last_error": mask_numbers_in(r.last_error),
                    }
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not rows:
        typer.echo("no dead letters")
    for r in rows:
        typer.echo(  # the ref is a Linkedid or an order number, never a phone number
            f"{r.id:>8} {r.kind:12} {r.ref:24} {r.changed_at:%Y-%m-%d %H:%M:%S} "
            f"attempts {r.attempts}  {mask_numbers_in(r.last_error)[:160]}"
        )


@app.command()
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="outbox ids (see `dead`)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
) -> None:
    """Send dead letters again (after the platform or the data was fixed)."""
    from hotline.crm_bridge.upstream import outbox

    if bool(ids) == all_:
        typer.echo("give outbox ids or --all", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit()
    with _session(settings) as s:
        n = outbox.replay(s, None if all_ else ids, datetime.now(UTC))
        s.commit()
    typer.echo(f"{n} dead letters pending again")
    if ids and n < len(ids):
        raise typer.Exit(1)


@app.command()
def receiver(
    port: Annotated[int, typer.Option(help="where to listen")] = 8390,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    db: Annotated[
        Path | None,
        typer.Option(help="where to keep what arrives (default var/upstream-receiver.db)"),
    ] = None,
) -> None:
    """Run the reference receiver (POST /upstream) with the shared secret of this hotline."""
    import uvicorn

    from hotline.crm_bridge.upstream.receiver import ReceivedStore, create_receiver

    settings = settings_or_exit()
    if not settings.upstream.secret:
        typer.echo(
            "no upstream secret: set HOTLINE_UPSTREAM__SECRET, or start the hotline once with "
            "upstream.url set (it generates one into var/secrets.env)",
            err=True,
        )
        raise typer.Exit(2)
    store = ReceivedStore(db or settings.var_dir / "upstream-receiver.db")
    typer.echo(f"receiver on http://{host}:{port}/upstream", err=True)
    uvicorn.run(
        create_receiver(settings.upstream.secret, store), host=host, port=port, log_level="warning"
    )
