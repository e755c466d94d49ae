"""The settings every CLI command starts from: a config mistake ends it with exit code 2."""

from __future__ import annotations

import typer

from config.settings import ConfigError, Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
