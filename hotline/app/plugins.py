"""What each package brings to the running hotline, in one explicit table: its command
groups and commands (the CLI adds them in this order), the modules of its HTTP routes
(the API app includes each module's `router`), and the services of `hotline up` it runs
(the supervisor starts them). A plain dict: nothing registers itself at import.

The CLI modules are light (they import their subsystems inside each command), so that
`hotline --help` starts at once; the route modules are named, and imported by the API
app only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import typer

from hotline.app import (
    cli_acd,
    cli_agents,
    cli_asterisk,
    cli_bench,
    cli_bridge,
    cli_call,
    cli_db,
    cli_ivr,
    cli_orders,
    cli_recordings,
    cli_service,
    cli_speech,
    cli_upstream,
    cli_users,
)


@dataclass(frozen=True)
class Plugin:
    groups: Mapping[str, typer.Typer] = field(default_factory=dict)
    commands: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    routes: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


PLUGINS: dict[str, Plugin] = {
    "app": Plugin(
        commands={"call": cli_call.call},
        groups={"bench": cli_bench.app, "service": cli_service.app},
        routes=("hotline.app.api",),  # calls, status, the API's own docs
        services=("api",),
    ),
    "kernel": Plugin(groups={"db": cli_db.app}),
    "asterisk": Plugin(
        groups={"asterisk": cli_asterisk.app},
        commands={"prompts": cli_asterisk.prompts},
        services=("asterisk",),
    ),
    "auth": Plugin(groups={"users": cli_users.app}, routes=("hotline.auth.http",)),
    "recordings": Plugin(
        groups={"recordings": cli_recordings.app},
        routes=("hotline.recordings.http",),
        services=("recordings",),
    ),
    "agi": Plugin(
        groups={"block": cli_ivr.block_app},
        commands={"reload": cli_ivr.reload, "callbacks": cli_ivr.callbacks_list},
        routes=("hotline.agi.http",),
        services=("agi",),
    ),
    "workorders": Plugin(
        groups={"orders": cli_orders.orders_app},
        routes=("hotline.workorders.http",),
        services=("duty",),
    ),
    "acd": Plugin(
        groups={"agent": cli_agents.app},
        commands={"simulate": cli_acd.simulate},
        routes=("hotline.acd.http",),  # agents, supervisors, live numbers, the agent page
        services=("acd", "live", "callbacks"),
    ),
    "crm_bridge": Plugin(
        groups={"bridge": cli_bridge.app, "upstream": cli_upstream.app},
        routes=("hotline.crm_bridge.http",),
        services=("bridge", "upstream"),
    ),
    "speech": Plugin(groups={"speech": cli_speech.app}, services=("speech", "transcripts")),
}
