"""Shared by the unit tests of the FastAGI routes: the shipped tree, and servers on a free
port, closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hotline.agi.menu import DEFAULT_MENU_FILE
from hotline.agi.reload import ConfigStore
from hotline.agi.services import IvrServices
from hotline.agi.settings import AgiSettings
from hotline.agi.tree import IvrConfig, load_ivr
from hotline.agi.waiting import WaitRules
from hotline.agi.worker import FastAGIServer, build_routes
from tests.helpers.fake_asterisk import QUEUES, AgiServerFactory


@pytest.fixture(scope="module")
def menu() -> IvrConfig:
    return load_ivr(DEFAULT_MENU_FILE, QUEUES)


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
