"""Shared by the unit tests of the ACD: a Redis of the test's own; the ACD's routes in an
app (settings, engine, client; a module may bring its own settings)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.acd.http import router  # the agents' routes, the agent page, live numbers
from hotline.acd.settings import AgentSettings
from hotline.config.settings import Settings
from hotline.kernel.settings import ServiceUrl
from hotline.kernel.web import attach
from tests.helpers.daemons import Daemon
from tests.helpers.ports import free_port
from tests.helpers.workorders_env import migrated_engine


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Daemon]:
    exe = shutil.which("redis-server")
    assert exe, "redis-server missing: scripts/setup installs it"
    port = free_port()
    d = Daemon([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--dir", str(tmp_path)], port)  # fmt: skip
    d.start()
    yield d
    d.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        redis=ServiceUrl(port=1),  # nothing answers: the feed never gets that far here
        agents=[AgentSettings(id="1001", name="李坐席", contact="sip:1001@127.0.0.1:5070")],
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = migrated_engine(settings.var_dir)  # settings.db_url's file
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    app = FastAPI()
    attach(app, settings, engine)
    app.include_router(router)
    return TestClient(app)
