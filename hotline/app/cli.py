"""`hotline`: one command for the whole engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotline.app.cli_settings import fail, settings_or_exit, setup_logging
from hotline.app.errors import StartError
from hotline.app.plugins import PLUGINS
from hotline.asterisk.errors import InstallError

# Light imports only: `hotline --help` must start at once (tests/unit/app/test_cli_imports.py).
# The commands import the heavy subsystems (database, Asterisk root, supervisor) they use.
from hotline.kernel.errors import ConfigError
from hotline.kernel.service_names import ALL_SERVICES as SERVICE_NAMES
from hotline.kernel.service_names import OUR_SERVICES

if TYPE_CHECKING:
    pass

# Plain help (rich_markup_mode=None; sub-apps inherit it): rich's help renderer costs
# about 0.1 s of every `--help`.
app = typer.Typer(
    help="12345 hotline call-handling engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
for plugin in PLUGINS.values():
    for group_name, group in plugin.groups.items():
        app.add_typer(group, name=group_name)
    for command_name, command in plugin.commands.items():
        app.command(command_name)(command)


_settings = settings_or_exit


def _services(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [n for n in names if n not in SERVICE_NAMES]
    if bad:
        raise typer.BadParameter(f"unknown {bad}; allowed: {','.join(SERVICE_NAMES)}")
    return names


ALL_SERVICES = ",".join(SERVICE_NAMES)
ServicesOpt = Annotated[str, typer.Option("--services", help=f"comma-separated: {ALL_SERVICES}")]


@app.command()
def up(
    detach: Annotated[
        bool,
        typer.Option(
            "--detach", "-d", help="run in the background; return once a call can be answered"
        ),
    ] = False,
    services: ServicesOpt = ALL_SERVICES,
) -> None:
    """Start Asterisk, Redis and Mosquitto where missing, then every service."""
    import asyncio

    from hotline.app import supervisor

    settings = _settings()
    names = _services(services)
    where = (
        f"call {settings.sip.hotline_number} at "
        f"sip:{settings.sip.hotline_number}@{settings.sip.host}:{settings.sip.port}; "
        f"API http://{settings.api.host}:{settings.api.port}/docs"
    )
    # idempotent, like scripts/run: a second `up` says so and leaves the running one alone
    if (pid := supervisor.running_supervisor(settings)) is not None:
        typer.echo(f"hotline already runs (pid {pid}): {where}; `hotline down` stops it")
        return
    if detach:
        try:
            supervisor.detach(settings, ["up", "--services", ",".join(names)])
        except StartError as exc:
            raise fail(str(exc)) from exc
        typer.echo(f"hotline is up: {where}")
        return
    setup_logging()
    try:
        asyncio.run(supervisor.Supervisor(settings, names).run())
    except (StartError, InstallError, ConfigError) as exc:
        raise fail(f"hotline up failed: {exc}") from exc


@app.command()
def down(
    now: Annotated[
        bool, typer.Option("--now", help="cut the calls in progress instead of waiting")
    ] = False,
    drain_seconds: Annotated[
        int | None,
        typer.Option(
            "--drain-seconds",
            min=0,
            help="wait this long at most for the calls in progress (default: "
            "runtime.drain_seconds)",
        ),
    ] = None,
) -> None:
    """Stop what `hotline up` started, and nothing else: new calls are refused at once, the
    calls in progress end first (at most runtime.drain_seconds), unless --now."""
    from hotline.app import supervisor

    settings = _settings()
    drain = 0 if now else drain_seconds
    if supervisor.running_supervisor(settings) is not None and drain != 0:
        wait = settings.runtime.drain_seconds if drain is None else drain
        typer.echo(f"refusing new calls; waiting up to {wait} s for the calls in progress")
    stopped = supervisor.down(settings, drain)
    typer.echo("stopped: " + ", ".join(stopped) if stopped else "nothing was running")


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="one service of `hotline up`")],
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate", help="do not upgrade the database first (its keeper already did)"
        ),
    ] = False,
) -> None:
    """Run one service in the foreground, as `hotline up` and the systemd units do: it says
    READY=1 and WATCHDOG=1 on $NOTIFY_SOCKET; exit 1 when it fails (its keeper restarts it)."""
    import asyncio

    from hotline.app.serve import Services

    if service not in OUR_SERVICES:
        raise fail(f"serve takes one of: {', '.join(OUR_SERVICES)}", 2)
    settings = _settings()
    setup_logging()
    if service not in ("agi", "speech") and not no_migrate:
        from hotline.kernel.db import upgrade

        upgrade(settings.db_url)
    try:
        code = asyncio.run(Services(settings, (service,)).run())
    except (StartError, ConfigError, OSError) as exc:
        raise fail(f"hotline serve {service} failed: {exc}") from exc
    raise typer.Exit(code)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    versions: Annotated[
        bool, typer.Option("--versions", help="Installed versions against the proven ones.")
    ] = False,
) -> None:
    """Health of each component; exit 1 when any is down (--versions: informational, exit 0)."""
    settings = _settings()
    if versions:
        from hotline.app.versions import report as versions_report

        typer.echo("\n".join(versions_report(settings.root)))
        raise typer.Exit(0)
    import asyncio

    from hotline.app import supervisor
    from hotline.app.health import check_all

    report: dict[str, Any] = asyncio.run(check_all(settings))
    report["running"] = supervisor.running_supervisor(settings) is not None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for name, comp in report["components"].items():
            state = "ok  " if comp["ok"] else "off " if comp.get("optional") else "DOWN"
            typer.echo(f"{name:10} {state} {comp['detail']}")
        if report.get("services"):
            from hotline.app.service_state import describe

            typer.echo("processes kept by `hotline up`:")
            for name, child in report["services"].items():
                state = {"running": "ok  ", "stopped": "off "}.get(child["state"], "DOWN")
                typer.echo(f"  {name:12} {state} {describe(child)}")
    raise typer.Exit(0 if report["ok"] else 1)
