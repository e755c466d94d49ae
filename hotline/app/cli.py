"""`hotline`: one command for the whole engine."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotline.app import (
    cli_acd,
    cli_agents,
    cli_bridge,
    cli_call,
    cli_ivr,
    cli_orders,
    cli_recordings,
    cli_speech,
    cli_upstream,
    cli_users,
)
from hotline.app.cli_settings import settings_or_exit
from hotline.app.errors import StartError
from hotline.asterisk import root as asterisk_root
from hotline.asterisk.errors import InstallError

# Light imports only: `hotline --help` must start at once (tests/unit/app/test_cli_imports.py).
# The commands import the heavy subsystems (database, Asterisk root, supervisor) they use.
from hotline.config.names import ConfigError
from hotline.kernel.service_names import ALL_SERVICES as SERVICE_NAMES

if TYPE_CHECKING:
    from hotline.config.settings import Settings

# Plain help (rich_markup_mode=None; sub-apps inherit it): rich's help renderer costs
# about 0.1 s of every `--help`.
app = typer.Typer(
    help="12345 hotline call-handling engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
asterisk_app = typer.Typer(
    help="The Asterisk root: install, render, reload, CLI.", no_args_is_help=True
)
agent_app = typer.Typer(
    help="Agents: add, list, log in and out, pause; supervisors listen, whisper, barge.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(agent_app, name="agent")
app.add_typer(db_app, name="db")
app.add_typer(cli_recordings.app, name="recordings")
app.add_typer(cli_ivr.block_app, name="block")
app.command("reload")(cli_ivr.reload)
app.command("callbacks")(cli_ivr.callbacks_list)
app.command("simulate")(cli_acd.simulate)
app.command("call")(cli_call.call)
app.add_typer(cli_orders.orders_app, name="orders")
app.add_typer(cli_upstream.app, name="upstream")
app.add_typer(cli_bridge.app, name="bridge")
app.add_typer(cli_users.app, name="users")
app.add_typer(cli_speech.app, name="speech")


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("panoramisk").setLevel(logging.WARNING)


_settings = settings_or_exit


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


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
            raise _fail(str(exc)) from exc
        typer.echo(f"hotline is up: {where}")
        return
    _logging()
    try:
        asyncio.run(supervisor.Supervisor(settings, names).run())
    except (StartError, InstallError, ConfigError) as exc:
        raise _fail(f"hotline up failed: {exc}") from exc


@app.command()
def down() -> None:
    """Stop what `hotline up` started, and nothing else."""
    from hotline.app import supervisor

    stopped = supervisor.down(_settings())
    typer.echo("stopped: " + ", ".join(stopped) if stopped else "nothing was running")


@app.command()
def serve(service: Annotated[str, typer.Argument(help="one service of `hotline up`")]) -> None:
    """Run one service alone in the foreground (to spread services over machines)."""
    import asyncio

    from hotline.app import supervisor

    choices = [name for name in SERVICE_NAMES if name != "asterisk"]
    if service not in choices:
        raise _fail(f"serve takes one of: {', '.join(choices)}", 2)
    settings = _settings()
    _logging()
    if service not in ("agi", "speech"):
        from hotline.kernel.db import upgrade

        upgrade(settings.db_url)
    sup = supervisor.Supervisor(settings, (service,))

    async def main() -> None:
        await asyncio.gather(*await sup.start_services())

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


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
    raise typer.Exit(0 if report["ok"] else 1)


@asterisk_app.command("install")
def asterisk_install(
    suite: Annotated[
        str | None, typer.Option(help="Debian suite (default forky, then sid)")
    ] = None,
) -> None:
    """Build (once, cached) the Debian root with Asterisk, render config, speak prompts."""
    from hotline.app import render
    from hotline.asterisk import prompts

    _logging()
    settings = _settings()
    try:
        root = asterisk_root.install(settings, suite=suite)
    except InstallError as exc:
        raise _fail(str(exc)) from exc
    render.render_all(settings)
    prompts.generate(settings)
    typer.echo(
        f"Asterisk root: {root} -> {root.resolve()} "
        f"({asterisk_root.asterisk_version(root) or 'host Asterisk'})"
    )


@asterisk_app.command("render")
def asterisk_render() -> None:
    """Render Asterisk's config files from hotline/asterisk/templates and hotline/config/."""
    from hotline.app import render

    settings = _settings()
    for path in render.render_all(settings):
        typer.echo(str(path))


@asterisk_app.command("reload")
def asterisk_reload() -> None:
    """Render, then make the running Asterisk reload its configuration."""
    from hotline.app import render

    settings = _settings()
    render.render_all(settings)
    _asterisk_rx(settings, "core reload")


@asterisk_app.command(
    "cli", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
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


@app.command("prompts")
def prompts_cmd(
    force: Annotated[bool, typer.Option(help="re-speak our own prompts")] = False,
) -> None:
    """Speak hotline/config/prompts.yaml into the Asterisk root (recorded files are kept)."""
    from hotline.asterisk import prompts

    for path in prompts.generate(_settings(), force=force):
        typer.echo(str(path))


bench_app = typer.Typer(
    help="Benchmarks: our engine against a dialplan-only reference.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


@bench_app.command("all")
def bench_all() -> None:
    """Run every benchmark (about an hour); write bench/results/ (stop your hotline first)."""
    from bench.run import BENCHMARKS, run

    run(list(BENCHMARKS))


@bench_app.command("run")
def bench_run(
    names: Annotated[
        list[str],
        typer.Argument(
            help="fastagi ami capacity setup classic recording routing simulation held "
            "speech cli_start"
        ),
    ],
) -> None:
    """Run some benchmarks; the table keeps the others' last figures."""
    from bench.run import run

    try:
        run(names)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@bench_app.command("report")
def bench_report() -> None:
    """Rewrite bench/results/results.md and the plots from results.json."""
    from bench.run import _load, write_report

    typer.echo(write_report(_load()).read_text())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from hotline.kernel.db import upgrade

    settings = _settings()
    upgrade(settings.db_url)
    typer.echo("database at head")


@agent_app.command("add")
def agent_add(
    agent_id: Annotated[str, typer.Argument(metavar="ID")],
    password: Annotated[str | None, typer.Option(help="for a registering softphone")] = None,
    contact: Annotated[str | None, typer.Option(help="SIP URI of a desk phone")] = None,
    skills: Annotated[
        str, typer.Option(help="comma-separated queue names, each may end :1-5 (proficiency)")
    ] = "",
    name: Annotated[str, typer.Option(help="the agent's name")] = "",
) -> None:
    """Add (or replace) an agent; the running Asterisk learns it at once."""
    from hotline.acd import agents as agent_store
    from hotline.app import render

    settings = _settings()
    try:
        agent = agent_store.add(
            settings,
            agent_id,
            name=name,
            password=password,
            contact=contact,
            skills=[s for s in skills.split(",") if s.strip()],
        )
    except ConfigError as exc:
        raise _fail(str(exc), 2) from exc
    except ValueError as exc:
        raise _fail(f"agent {agent_id}: {exc}", 2) from exc
    if (settings.root / "usr/sbin/asterisk").exists():
        render.render_all(settings)
        subprocess.run(
            asterisk_root.asterisk_cmd(settings.root, "-rx", "pjsip reload"),
            capture_output=True,
            check=False,
        )
        subprocess.run(  # the feature codes (*11 log in) know each agent's queues
            asterisk_root.asterisk_cmd(settings.root, "-rx", "dialplan reload"),
            capture_output=True,
            check=False,
        )
    typer.echo(f"agent {agent.id} added; queues: {','.join(agent.queues)}")


@agent_app.command("list")
def agent_list() -> None:
    """Agents from hotline/config/hotline.yaml and those added with `hotline agent add`."""
    from hotline.acd import agents as agent_store

    for a in agent_store.all_agents(_settings()):
        how = a.contact or "softphone (registers)"
        typer.echo(f"{a.id:8} {a.name:10} {','.join(a.queues):40} {how} [{a.source}]")


cli_agents.register(agent_app)
