"""`hotline db upgrade`."""

from __future__ import annotations

import typer

from hotline.app.cli_settings import settings_or_exit

app = typer.Typer(help="The database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from hotline.kernel.db import upgrade

    settings = settings_or_exit()
    upgrade(settings.db_url)
    typer.echo("database at head")
