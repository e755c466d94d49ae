"""`hotline simulate`: Poisson callers and SIPp agents against the running hotline."""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.acd.agents import Agent
    from hotline.acd.simulate import LiveFigures, Plan
    from hotline.config.settings import Settings

SIM_AGENT = "sim{:02d}"


_settings = settings_or_exit


def simulate(
    agents: Annotated[
        int, typer.Option(min=1, max=20, help="simulated agents (general queue)")
    ] = 2,
    calls_per_hour: Annotated[float, typer.Option(min=1, help="Poisson arrival rate")] = 600,
    aht: Annotated[float, typer.Option(min=1, help="mean talk time, seconds (exponential)")] = 9,
    minutes: Annotated[float, typer.Option(min=0.1, help="how long callers keep arriving")] = 5,
    target: Annotated[float, typer.Option(help="service level threshold, seconds")] = 20,
) -> None:
    """Drive callers (press 0, wait) and agents (answer, talk, hang up) against the running
    hotline; print the service level recomputed from the call records next to the one the
    system reported over the run (the general queue's live numbers) and Erlang C.

    Agents sim01… are added as desk phones on 127.0.0.1:5100, 5102, … and logged in to
    the general queue for the run (logged out after it). Agents already logged in take
    calls too: log them out first for a clean measurement. Other calls in the general
    queue during the run are counted by the system too (the output says so).
    """
    from hotline.acd.simulate import Plan

    settings = _settings()
    plan = Plan(agents, calls_per_hour, aht, minutes, target)
    live_before = _live_before(settings, target)
    ports, sim = _add_sim_agents(settings, agents)
    work = settings.var_dir / "simulate" / time.strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True, exist_ok=True)
    prefix = f"199{int(time.time()) % 100_000:05d}"  # the callers' numbers begin so
    offered = _run(settings, plan, sim, ports, work, prefix)
    _report(settings, plan, prefix, offered, live_before)


def _live_before(settings: Settings, target: float) -> LiveFigures | None:
    """The general queue's live numbers before the run; None when the system reports no
    service level at `target` seconds."""
    from hotline.acd.errors import LiveNumbersError
    from hotline.acd.simulate import QUEUE, read_live, threshold_key

    if threshold_key(target) not in {str(t) for t in settings.live.service_level_seconds}:
        typer.echo(
            f"simulate: the system reports no {target:g} s service level "
            f"(live.service_level_seconds {settings.live.service_level_seconds}); "
            "only the call records' figure is given",
            err=True,
        )
        return None
    try:
        return read_live(settings, QUEUE)
    except LiveNumbersError as exc:
        typer.echo(f"simulate: the system's live numbers: {exc}", err=True)
        raise typer.Exit(1) from None


def _add_sim_agents(settings: Settings, count: int) -> tuple[list[int], list[Agent]]:
    """Desk phones sim01… on 127.0.0.1:5100, 5102, …, known to Asterisk: (ports, agents)."""
    from hotline.acd import agents as agent_store
    from hotline.acd.simulate import AGENT_PORT_BASE
    from hotline.app import render
    from hotline.asterisk import root as asterisk_root

    ports = [AGENT_PORT_BASE + 2 * i for i in range(count)]
    sim = [
        agent_store.add(
            settings,
            SIM_AGENT.format(i + 1),
            name=f"模拟坐席{i + 1}",
            contact=f"sip:{SIM_AGENT.format(i + 1)}@127.0.0.1:{port}",
            skills=[],
            qualify_seconds=0,  # a SIPp run per call, absent between calls: not asked
        )
        for i, port in enumerate(ports)
    ]
    render.render_all(settings)
    subprocess.run(
        asterisk_root.asterisk_cmd(settings.root, "-rx", "pjsip reload"),
        capture_output=True,
        check=False,
    )
    return ports, sim


def _run(
    settings: Settings, plan: Plan, sim: list[Agent], ports: list[int], work: Path, prefix: str
) -> int:
    """The callers and the agents' phones, with the agents logged in for the run only."""
    import asyncio

    from hotline.acd.simulate import drive

    try:
        asyncio.run(_membership(settings, sim, login=True))
        return drive(
            plan,
            work=work,
            target=f"127.0.0.1:{settings.sip.port}",
            service=settings.sip.hotline_number,
            prefix=prefix,
            agent_ports=ports,
            report=lambda msg: typer.echo(f"simulate: {msg}", err=True),
        )
    finally:
        asyncio.run(_membership(settings, sim, login=False))


def _report(
    settings: Settings, plan: Plan, prefix: str, offered: int, live_before: LiveFigures | None
) -> None:
    """The table of service levels; exit 1 when the system's differs from the records'."""
    from hotline.acd.errors import LiveNumbersError
    from hotline.acd.simulate import QUEUE, outcome, read_live
    from hotline.app.tables import open_engine

    try:
        got = outcome(
            open_engine(settings),
            plan,
            prefix,
            offered,
            live_before=live_before,
            read=lambda: read_live(settings, QUEUE),
        )
    except LiveNumbersError as exc:
        typer.echo(f"simulate: the system's live numbers: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(got.table())
    if got.disagrees:
        typer.echo(
            "simulate: the service level the system reported differs from the call records'",
            err=True,
        )
        raise typer.Exit(1)


async def _membership(settings: Settings, agents: list[Agent], *, login: bool) -> None:
    from hotline.acd import membership

    async with membership.ami_session(settings) as ami:
        for agent in agents:
            if login:
                await membership.login(ami, agent)
            else:
                await membership.logout(ami, agent, list(agent.queues))
