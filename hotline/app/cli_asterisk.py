"""`hotline asterisk install|render|reload|cli` and `hotline prompts`."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import fail, settings_or_exit, setup_logging
from hotline.asterisk import root as asterisk_root
from hotline.asterisk.errors import InstallError

if TYPE_CHECKING:
    from hotline.config.settings import Settings

_settings = settings_or_exit


app = typer.Typer(help="The Asterisk root: install, render, reload, CLI.", no_args_is_help=True)


@app.command("install")
def asterisk_install(
    suite: Annotated[
        str | None, typer.Option(help="Debian suite (default forky, then sid)")
    ] = None,
) -> None:
    """Build (once, cached) the Debian root with Asterisk, render config, speak prompts."""
    from hotline.app import render
    from hotline.asterisk import prompts

    setup_logging()
    settings = _settings()
    try:
        root = asterisk_root.install(settings, suite=suite)
    except InstallError as exc:
        raise fail(str(exc)) from exc
    render.render_all(settings)
    prompts.generate(settings)
    typer.echo(
        f"Asterisk root: {root} -> {root.resolve()} "
        f"({asterisk_root.asterisk_version(root) or 'host Asterisk'})"
    )


@app.command("render")
def asterisk_render() -> None:
    """Render Asterisk's config files from hotline/asterisk/templates and hotline/config/."""
    from hotline.app import render

    settings = _settings()
    for path in render.render_all(settings):
        typer.echo(str(path))


@app.command("reload")
def asterisk_reload() -> None:
    """Render, then make the running Asterisk reload its configuration."""
    from hotline.app import render

    settings = _settings()
    render.render_all(settings)
    _asterisk_rx(settings, "core reload")


@app.command("cli", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def asterisk_cli(ctx: typer.Context) -> None:
    """Run an Asterisk CLI command, e.g. `hotline asterisk cli core show channels`."""
    settings = _settings()
    _asterisk_rx(settings, " ".join(ctx.args) or "core show version")


def _asterisk_rx(settings: Settings, command: str) -> None:
    out = subprocess.run(
        asterisk_root.asterisk_cmd(settings.root, "-rx", command),
        capture_output=True,
        text=True,
        check=False,
    )
    typer.echo(out.stdout + out.stderr, nl=False)
    if out.returncode != 0:
        raise typer.Exit(out.returncode)


def prompts(
    force: Annotated[bool, typer.Option(help="re-speak our own prompts")] = False,
) -> None:
    """Speak hotline/config/prompts.yaml into the Asterisk root (recorded files are kept)."""
    from hotline.asterisk import prompts

    for path in prompts.generate(_settings(), force=force):
        typer.echo(str(path))
