"""`hotline agent login|logout|pause|unpause|status|listen|whisper|barge|audit`.

State changes and supervisor actions go to Asterisk over AMI and are audited with
--by (default: your login) as the actor; the state itself is read from Redis.
"""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from hotline.acd.agent_state import PAUSE_REASONS
from hotline.app.cli_settings import cli_user, fail, settings_or_exit
from hotline.asterisk import root as asterisk_root
from hotline.kernel.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hotline.acd.supervision import Actor, SpyMode
    from hotline.asterisk.ami import AmiClient
    from hotline.config.settings import Settings

AgentId = Annotated[str, typer.Argument(metavar="AGENT")]
By = Annotated[str, typer.Option("--by", help="who acts, for the audit (default: your login)")]
REASONS_HELP = ", ".join(f"{r.code} ({r.title})" for r in PAUSE_REASONS)


_settings = settings_or_exit


app = typer.Typer(
    help="Agents: add, list, log in and out, pause; supervisors listen, whisper, barge.",
    no_args_is_help=True,
)


@app.command("add")
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
        raise fail(str(exc), 2) from exc
    except ValueError as exc:
        raise fail(f"agent {agent_id}: {exc}", 2) from exc
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


@app.command("list")
def agent_list() -> None:
    """Agents from hotline/config/hotline.yaml and those added with `hotline agent add`."""
    from hotline.acd import agents as agent_store

    for a in agent_store.all_agents(_settings()):
        how = a.contact or "softphone (registers)"
        typer.echo(f"{a.id:8} {a.name:10} {','.join(a.queues):40} {how} [{a.source}]")


def _engine(settings: Settings) -> Engine:
    from hotline.app.tables import open_engine
    from hotline.kernel.db import upgrade

    upgrade(settings.db_url)
    return open_engine(settings)


def _run(
    by: str,
    check: Callable[[Settings], object],
    act: Callable[[Settings, Engine, AmiClient, Actor], Awaitable[str]],
) -> None:
    import asyncio

    from hotline.acd.errors import ActionError
    from hotline.acd.membership import ami_session
    from hotline.acd.supervision import Actor

    settings = _settings()
    try:
        check(settings)
    except ActionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    engine = _engine(settings)
    actor = Actor(by or cli_user(), "cli")

    async def main() -> str:
        async with ami_session(settings) as ami:
            return await act(settings, engine, ami, actor)

    try:
        typer.echo(asyncio.run(main()))
    except ActionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2 if exc.status in (404, 422) else 1) from exc
    except (ConnectionError, TimeoutError, OSError) as exc:
        typer.echo(
            f"cannot reach AMI at {settings.ami.host}:{settings.ami.port} "
            f"({exc or 'timed out'}); is the hotline up?",
            err=True,
        )
        raise typer.Exit(1) from exc


def _state(action: str, agent_id: str, by: str, reason: str = "") -> None:
    from hotline.acd.supervision import change_state, check_state_change

    _run(
        by,
        lambda s: check_state_change(s, action, agent_id, reason),
        lambda s, e, ami, actor: change_state(s, e, ami, actor, action, agent_id, reason),
    )


def login(agent_id: AgentId, by: By = "") -> None:
    """Add the agent to the queues of their skills and to general."""
    _state("login", agent_id, by)


def logout(agent_id: AgentId, by: By = "") -> None:
    """Remove the agent from every queue."""
    _state("logout", agent_id, by)


def pause(
    agent_id: AgentId,
    reason: Annotated[str, typer.Option(help=f"one of: {REASONS_HELP}")],
    by: By = "",
) -> None:
    """Pause the agent in every queue, with a reason; no queue call rings them."""
    _state("pause", agent_id, by, reason)


def unpause(agent_id: AgentId, by: By = "") -> None:
    """Take the agent's pause away: they are offered calls again."""
    _state("unpause", agent_id, by)


def _spy(mode: SpyMode, agent_id: str, supervisor: str, by: str) -> None:
    from hotline.acd.supervision import check_spy, spy

    _run(
        by,
        lambda s: check_spy(s, agent_id, supervisor),
        lambda s, e, ami, actor: spy(s, e, ami, actor, mode, agent_id, supervisor),
    )


Supervisor = Annotated[
    str, typer.Option("--supervisor", help="the supervisor's phone (an endpoint of agents)")
]


def listen(agent_id: AgentId, supervisor: Supervisor, by: By = "") -> None:
    """监听: ring the supervisor's phone; on answer it hears the agent's live call."""
    from hotline.acd.supervision import SpyMode

    _spy(SpyMode.LISTEN, agent_id, supervisor, by)


def whisper(agent_id: AgentId, supervisor: Supervisor, by: By = "") -> None:
    """耳语: like listen, and the agent (only) hears the supervisor."""
    from hotline.acd.supervision import SpyMode

    _spy(SpyMode.WHISPER, agent_id, supervisor, by)


def barge(agent_id: AgentId, supervisor: Supervisor, by: By = "") -> None:
    """强插: the supervisor joins the call; citizen and agent both hear them."""
    from hotline.acd.supervision import SpyMode

    _spy(SpyMode.BARGE, agent_id, supervisor, by)


def status(
    agent_id: Annotated[str | None, typer.Argument(metavar="[AGENT]")] = None,
) -> None:
    """Every agent's state (or one agent's) as the acd service keeps it in Redis."""
    import asyncio
    from datetime import datetime

    from hotline.acd.agent_service import read_agents
    from hotline.kernel.redis_conn import redis_client

    settings = _settings()

    async def main() -> dict[str, dict[str, str]]:
        r = redis_client(settings)
        try:
            return await read_agents(r, settings.live_namespace)
        finally:
            await r.aclose()

    try:
        rows = asyncio.run(main())
    except Exception as exc:
        typer.echo(
            f"cannot read agents' states from Redis at {settings.redis.host}:"
            f"{settings.redis.port} ({exc}); is the hotline up?",
            err=True,
        )
        raise typer.Exit(1) from exc
    if agent_id is not None:
        if agent_id not in rows:
            typer.echo(f"unknown agent {agent_id!r}; known: {', '.join(rows) or 'none'}", err=True)
            raise typer.Exit(2)
        rows = {agent_id: rows[agent_id]}
    tz = ZoneInfo(settings.timezone)
    for aid, f in rows.items():
        since = datetime.fromisoformat(f["since"]).astimezone(tz).strftime("%m-%d %H:%M:%S")
        state = f["state"] + (f" ({f['reason']})" if f.get("reason") else "")
        typer.echo(
            f"{aid:8} {state:22} since {since}  calls {f['calls_handled']:>3}  {f['queues']}"
        )


def audit(
    agent_id: Annotated[str | None, typer.Argument(metavar="[AGENT]")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """The audit trail of agent and supervisor actions, newest first."""
    from hotline.acd.supervision import audit_trail

    settings = _settings()
    tz = ZoneInfo(settings.timezone)
    for a in audit_trail(_engine(settings), agent_id, limit):
        extra = " ".join(
            x for x in (a.reason, f"from {a.supervisor_ext}" if a.supervisor_ext else "") if x
        )
        typer.echo(
            f"{a.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {a.action:8} {a.agent:8} by {a.actor}"
            f" ({a.via}{', forced' if a.forced else ''}) {extra} {a.result}"
        )


for command in (login, logout, pause, unpause, status, listen, whisper, barge, audit):
    app.command(command.__name__)(command)
