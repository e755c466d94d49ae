"""The settings every CLI command starts from: a config mistake ends it with exit code 2."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import typer

from hotline.config.names import ConfigError

if TYPE_CHECKING:
    from hotline.config.settings import Settings


def settings_or_exit() -> Settings:
    from hotline.config.settings import load_settings  # pydantic: not for `hotline --help`

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def cli_user() -> str:
    """Who runs the command (the OS user), for the who-did-what of a change; "cli" where the
    system knows no name for the uid (a container)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
