"""HTTPS to the platform: the certificate is verified against `upstream.ca_file`; a
platform whose certificate the hotline cannot verify gets nothing (the change waits)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session, select, update

from hotline.config.settings import Settings
from hotline.crm_bridge.settings import UpstreamSettings
from hotline.crm_bridge.upstream import capture
from hotline.crm_bridge.upstream.models import UpstreamChange
from hotline.crm_bridge.upstream.receiver import ReceivedStore, create_receiver
from hotline.crm_bridge.upstream.worker import UpstreamSender
from tests.helpers.ports import free_port
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine

SECRET = "tls-test-secret"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture
async def https_receiver(tmp_path: Path) -> AsyncIterator[tuple[str, Path, ReceivedStore]]:
    key, cert = self_signed(tmp_path)
    store = ReceivedStore(tmp_path / "received.db")
    port = free_port()
    config = uvicorn.Config(
        create_receiver(SECRET, store),
        host="127.0.0.1",
        port=port,
        ssl_keyfile=str(key),
        ssl_certfile=str(cert),
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the HTTPS receiver did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}/upstream", cert, store
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    capture.set_enabled(True)
    try:
        engine = migrated_engine(tmp_path)
        with Session(engine) as s:
            clock = FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
            make_service(s, clock, tmp_path / "sms.jsonl").create(request_type="help")
            s.commit()
        return engine
    finally:
        capture.set_enabled(None)


async def test_https_with_the_ca_file_delivers_and_without_it_waits(
    tmp_path: Path, engine: Engine, https_receiver: tuple[str, Path, ReceivedStore]
) -> None:
    url, cert, store = https_receiver
    unknown = UpstreamSender(
        Settings(var_dir=tmp_path, upstream=UpstreamSettings(url=url, secret=SECRET)), engine
    )
    attempted, failed = await unknown.pass_once()  # the system's CAs do not know it
    assert (attempted, failed) == (1, True) and store.rows() == []
    await unknown.aclose()

    trusted = UpstreamSender(
        Settings(
            var_dir=tmp_path,
            upstream=UpstreamSettings(url=url, secret=SECRET, ca_file=cert),
        ),
        engine,
    )
    with Session(engine) as s:
        change = s.exec(select(UpstreamChange)).one()
        assert "CERTIFICATE_VERIFY_FAILED" in change.last_error
        # due again now, not after its back-off
        s.exec(update(UpstreamChange).values(next_at=UpstreamChange.changed_at))
        s.commit()
    assert await trusted.pass_once() == (1, False)
    assert len(store.rows()) == 1
    await trusted.aclose()
