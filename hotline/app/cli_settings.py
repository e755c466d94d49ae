"""The settings every CLI command starts from: a config mistake ends it with exit code 2."""

from __future__ import annotations

import getpass
import logging
import sys
from typing import TYPE_CHECKING

import typer

from hotline.kernel.errors import ConfigError

if TYPE_CHECKING:
    from hotline.config.settings import Settings


def settings_or_exit() -> Settings:
    from hotline.config.settings import load_settings  # pydantic: not for `hotline --help`

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say why on stderr; the caller raises the returned Exit (`raise fail(...) from exc`)."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def cli_user() -> str:
    """Who runs the command (the OS user), for the who-did-what of a change; "cli" where the
    system knows no name for the uid (a container)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def setup_logging(verbose: bool = False) -> None:
    """Log lines on stderr (the long-running commands: up, serve, asterisk install)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("panoramisk").setLevel(logging.WARNING)
