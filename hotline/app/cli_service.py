"""`hotline service …`: one service of a running hotline (start, stop, restart), the drain,
and the systemd units for production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.app.cli_settings import fail, settings_or_exit
from hotline.kernel.service_names import OUR_SERVICES

app = typer.Typer(help="The services' processes: start, stop, restart, drain; systemd units.")
Name = Annotated[str, typer.Argument(help=f"one of {', '.join(OUR_SERVICES)}")]


def _control(what: str, name: str) -> None:
    from hotline.app.service_state import control, describe

    if name not in OUR_SERVICES:
        raise fail(f"unknown service {name!r}; allowed: {', '.join(OUR_SERVICES)}", 2)
    settings = settings_or_exit()
    try:
        reply = control(settings, {"do": what, "service": name})
    except OSError as exc:
        raise fail(
            f"no `hotline up` answers on {settings.run_dir}/control.sock ({exc}); under "
            f"systemd: systemctl {what} hotline-service@{name}"
        ) from exc
    if not reply.get("ok"):
        raise fail(f"{what} {name}: {reply.get('error')}")
    typer.echo(f"{name}: {describe(reply['service'])}")


@app.command("start")
def start(name: Name) -> None:
    """Start a service of the running `hotline up` (also one it was not started with)."""
    _control("start", name)


@app.command("stop")
def stop(name: Name) -> None:
    """Stop a service and keep it stopped until `hotline service start` (calls go on: the
    dialplan falls back where a service is missing)."""
    _control("stop", name)


@app.command("restart")
def restart(name: Name) -> None:
    """Stop and start a service, e.g. after an upgrade; calls in progress go on."""
    _control("restart", name)


@app.command("drain")
def drain(
    stop_after: Annotated[
        bool, typer.Option("--stop", help="then stop Asterisk (`core stop now`)")
    ] = False,
    seconds: Annotated[
        int | None, typer.Option("--seconds", min=0, help="default: runtime.drain_seconds")
    ] = None,
) -> None:
    """Refuse new calls and wait for the calls in progress to end (systemd's ExecStop)."""
    import asyncio

    from hotline.app.drain import drain_asterisk

    settings = settings_or_exit()
    limit = settings.runtime.drain_seconds if seconds is None else seconds
    left = asyncio.run(drain_asterisk(settings, limit, stop_after=stop_after))
    typer.echo(f"drained: {left} channels were still up" if left else "drained")


@app.command("undrain")
def undrain() -> None:
    """Take new calls again (systemd's ExecStartPost of Asterisk: waits until it booted)."""
    import asyncio

    from hotline.app.drain import undrain_asterisk

    if not asyncio.run(undrain_asterisk(settings_or_exit())):
        raise fail("Asterisk did not answer within 120 s")
    typer.echo("taking calls")


@app.command("failed", hidden=True)
def failed(unit: Annotated[str, typer.Argument(help="the systemd unit that failed")]) -> None:
    """Raise the alarm for a failed unit (systemd's OnFailure=)."""
    import asyncio

    from hotline.app.service_state import restart_alarm
    from hotline.kernel.alarms import publish

    name = "asterisk" if "asterisk" in unit else unit
    alarm = restart_alarm(name, f"{unit} failed; systemd starts it again")
    asyncio.run(publish(settings_or_exit(), alarm))


@app.command("install-units")
def install_units(
    directory: Annotated[Path, typer.Option("--dir", help="where to write them")] = Path(
        "/etc/systemd/system"
    ),
    user: Annotated[str, typer.Option("--user", help="the services' user")] = "hotline",
    group: Annotated[str, typer.Option("--group", help="the services' group")] = "hotline",
    env_file: Annotated[
        Path, typer.Option("--env-file", help="HOTLINE_* settings for every unit")
    ] = Path("/etc/hotline/hotline.env"),
) -> None:
    """Write the systemd units: hotline.target, Asterisk, one per service (watchdog, restart
    for ever), the schema, the failure alarm, and Redis/Mosquitto restart drop-ins."""
    import subprocess

    from hotline.app.units import render_units, systemctl, write_units

    settings = settings_or_exit()
    units = render_units(settings, user, group, env_file, OUR_SERVICES)
    for path in write_units(units, directory):
        typer.echo(f"wrote {path}")
    if directory == Path("/etc/systemd/system") and (exe := systemctl()):
        subprocess.run([exe, "daemon-reload"], check=False)
    typer.echo("then: systemctl enable --now hotline.target")
