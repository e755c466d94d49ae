"""crm_bridge/ami.py: waiting for the AMI login says at once when nothing listens."""

from __future__ import annotations

import asyncio
import socket

import pytest

from hotline.asterisk.ami import AmiClient
from hotline.asterisk.settings import AmiSettings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_an_error_not_a_long_wait() -> None:
    port = closed_port()
    ami = AmiClient(AmiSettings(port=port, secret="x"))
    await ami.connect()
    try:
        # a wait of a minute would end in TimeoutError; refused is ConnectionError
        with pytest.raises(ConnectionError, match=f"AMI at 127.0.0.1:{port}"):
            await ami.wait_logged_in(60)
    finally:
        ami.close()


async def test_a_peer_that_never_logs_in_times_out() -> None:
    async def silent(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        w.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ami = AmiClient(AmiSettings(port=port, secret="x"))
    await ami.connect()
    try:
        with pytest.raises(TimeoutError):
            await ami.wait_logged_in(0.5)
    finally:
        ami.close()
        server.close()
