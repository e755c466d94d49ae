"""Shared by the unit tests of the FastAGI routes: servers on a free port, closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hotline.agi.reload import ConfigStore
from hotline.agi.server import FastAGIServer, build_routes
from hotline.agi.services import IvrServices
from hotline.agi.tree import IvrConfig
from hotline.agi.waiting import WaitRules
from hotline.config.settings import AgiSettings

AgiServerFactory = Callable[..., Awaitable[int]]


@pytest.fixture
async def agi_server() -> AsyncIterator[AgiServerFactory]:
    """make(config, services, rules=None) starts the real server; returns its port."""
    servers: list[FastAGIServer] = []

    async def make(
        config: IvrConfig | ConfigStore, services: IvrServices, rules: WaitRules | None = None
    ) -> int:
        settings = AgiSettings().model_copy(update={"port": 0, "call_timeout_seconds": 2.0})
        server = FastAGIServer(settings, build_routes(config, services, rules))
        await server.start()
        servers.append(server)
        return server.bound_port

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
def asterisk_root(tmp_path: Path) -> Path:
    """An empty Asterisk root that `hotline.render` can write its config into."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("asterisk:x:0:0::/:/bin/false\n")
    return root
