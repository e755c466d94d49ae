"""The real FastAGI server and the `ivr` route, driven by a fake Asterisk over TCP
(tests/helpers/fake_asterisk.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from hotline.agi.channel import AGIChannel
from hotline.agi.settings import AgiSettings
from hotline.agi.tree import IvrConfig
from hotline.agi.worker import FastAGIServer, Handler, build_routes
from hotline.kernel.errors import ConfigError
from tests.helpers.fake_asterisk import CALLER, SILENT, FakeAsterisk, call, header

FALLBACK = {
    "HOTLINE_QUEUE": "general",
    "HOTLINE_TRANSFER": "",
    "HOTLINE_HANGUP": "",
    "HOTLINE_IVR_RESULT": "error",
}

MENU_KEYS = "1234567890*#"  # the main menu's keys and its repeat key (barge-in)


ServerFactory = Callable[..., Awaitable[FastAGIServer]]


@pytest.fixture
async def make_server(menu: IvrConfig) -> AsyncIterator[ServerFactory]:
    servers: list[FastAGIServer] = []

    async def make(routes: Mapping[str, Handler] | None = None, **agi: Any) -> FastAGIServer:
        settings = AgiSettings().model_copy(update={"port": 0, "call_timeout_seconds": 2.0, **agi})
        server = FastAGIServer(settings, build_routes(menu) if routes is None else routes)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
async def server(make_server: ServerFactory) -> FastAGIServer:
    return await make_server()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True when the server closes the connection without sending a command."""
    try:
        data = await asyncio.wait_for(reader.read(), timeout=2)
    except ConnectionResetError:  # closed with our bytes unread: a reset, also fine
        return True
    return data == b""


# The menu --------------------------------------------------------------------
async def test_key_3_goes_to_complaint(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=3"]})
    assert fake.variables == {
        "HOTLINE_IVR_CHOICE": "3",
        "HOTLINE_REQUEST_TYPE": "complaint",
        "HOTLINE_QUEUE": "complaint",
        "HOTLINE_IVR_RESULT": "chosen",
    }
    assert "ANSWER" not in fake.verbs  # the dialplan answered already
    assert sorted(fake.args_of("STREAM FILE")[0][1]) == sorted(MENU_KEYS)
    assert fake.args_of("STREAM FILE")[0][0] == "hotline/welcome"
    assert fake.args_of("GET DATA") == [["hotline/menu", "5000", "1"]]
    assert fake.args_of("STREAM FILE")[-1] == ["hotline/transfer", ""]
    assert fake.verbs[-1] == "STREAM FILE"  # the transfer prompt comes after the variables


async def test_key_during_welcome_acts_at_once(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"STREAM FILE": ["200 result=51 endpos=1200"]})
    assert "GET DATA" not in fake.verbs
    assert fake.variables["HOTLINE_QUEUE"] == "complaint"
    assert fake.variables["HOTLINE_REQUEST_TYPE"] == "complaint"
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "3"


async def test_invalid_key_then_valid_key(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=A", "200 result=2"]})
    prompts = [args[0] for args in fake.args_of("STREAM FILE")]
    assert prompts == ["hotline/welcome", "hotline/invalid", "hotline/transfer"]
    assert fake.variables["HOTLINE_QUEUE"] == "help"
    assert fake.variables["HOTLINE_REQUEST_TYPE"] == "help"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "chosen"


async def test_key_without_request_type(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=9 (timeout)"]})
    assert fake.variables["HOTLINE_QUEUE"] == "zhuang"
    assert fake.variables["HOTLINE_REQUEST_TYPE"] == ""


@pytest.mark.parametrize(("key", "line"), [("1", "110"), ("2", "119"), ("3", "120"), ("4", "122")])
async def test_emergency_menu_transfers_to_the_line(
    server: FastAGIServer, key: str, line: str
) -> None:
    fake = await call(
        server.bound_port, answers={"GET DATA": ["200 result=*", f"200 result={key}"]}
    )
    assert [a[0] for a in fake.args_of("GET DATA")] == ["hotline/menu", "hotline/emergency-menu"]
    assert fake.variables["HOTLINE_EMERGENCY"] == "1"
    assert fake.variables["HOTLINE_TRANSFER"] == line
    assert fake.variables["HOTLINE_IVR_RESULT"] == f"emergency-{line}"
    assert fake.variables["HOTLINE_QUEUE"] == "general"  # if the line does not answer
    assert fake.variables["HOTLINE_IVR_CHOICE"] == f"*{key}"
    assert "HOTLINE_HANGUP" not in fake.variables


async def test_no_key_three_times_goes_to_fallback(server: FastAGIServer) -> None:
    fake = await call(server.bound_port)  # every GET DATA times out
    assert len(fake.args_of("GET DATA")) == 3
    prompts = [args[0] for args in fake.args_of("STREAM FILE")]
    assert prompts == ["hotline/welcome", "hotline/invalid", "hotline/invalid", "hotline/transfer"]
    assert fake.variables == {
        "HOTLINE_IVR_CHOICE": "none",
        "HOTLINE_REQUEST_TYPE": "",
        "HOTLINE_QUEUE": "general",
        "HOTLINE_IVR_RESULT": "failed",
    }


async def test_hash_repeats_the_menu(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=", "200 result=4"]})
    assert fake.variables["HOTLINE_QUEUE"] == "report"
    assert len(fake.args_of("GET DATA")) == 2
    assert "hotline/invalid" not in [a[0] for a in fake.args_of("STREAM FILE")]


async def test_hangup_ends_the_route_quietly(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    fake = await call(server.bound_port, answers={"GET DATA": ["HANGUP"]})
    assert fake.variables == {}
    assert fake.verbs == ["STREAM FILE", "GET DATA"]
    assert "hung up" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_get_data_minus_one_is_hangup(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=-1"]})
    assert fake.variables == {}


async def test_caller_number_is_masked_in_logs(
    server: FastAGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline.agi")
    await call(server.bound_port, answers={"GET DATA": ["200 result=3"]})
    assert "138******00" in caplog.text
    assert CALLER not in caplog.text


# Failures go to the general queue -----------------------------------------------
async def test_handler_exception_goes_to_general(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(agi: AGIChannel) -> None:
        await agi.set_variable("HOTLINE_QUEUE", "complaint")
        raise RuntimeError("bug in a route")

    server = await make_server(routes={"boom": boom})
    fake = await call(server.bound_port, script="boom")
    assert fake.variables == FALLBACK
    assert "bug in a route" in caplog.text  # logged with its traceback
    assert any(r.exc_info for r in caplog.records)


async def test_agi_error_goes_to_general(make_server: ServerFactory) -> None:
    async def bad_command(agi: AGIChannel) -> None:
        await agi.command("EXEC", "Nothing")

    server = await make_server(routes={"bad": bad_command})
    fake = await call(server.bound_port, script="bad", answers={"EXEC": ["510 Invalid"]})
    assert fake.variables == FALLBACK


async def test_unknown_route_goes_to_general(server: FastAGIServer) -> None:
    fake = await call(server.bound_port, script="no-such-route")
    assert fake.variables == FALLBACK


async def test_call_timeout_closes_the_connection(make_server: ServerFactory) -> None:
    server = await make_server(call_timeout_seconds=0.2)
    started = time.monotonic()
    fake = await call(server.bound_port, answers={"STREAM FILE": [SILENT]})
    assert time.monotonic() - started < 1.5
    assert fake.verbs == ["STREAM FILE"]
    assert fake.variables == {}


async def test_close_ends_calls_in_progress(make_server: ServerFactory) -> None:
    server = await make_server()
    fake = FakeAsterisk(server.bound_port, pause_at="GET DATA")
    running = asyncio.create_task(fake.run())
    await asyncio.wait_for(fake.reached.wait(), timeout=2)
    await asyncio.wait_for(server.close(), timeout=2)
    fake.release.set()
    with contextlib.suppress(ConnectionError):
        await asyncio.wait_for(running, timeout=2)
    assert fake.variables == {}


async def test_run_serves_until_cancelled_and_status_shows_the_calls(menu: IvrConfig) -> None:
    settings = AgiSettings().model_copy(update={"port": 0})
    server = FastAGIServer(settings, build_routes(menu))
    assert server.status()["listening"] is False
    running = asyncio.create_task(server.run())
    for _ in range(200):  # started: listening
        if server.status()["listening"]:
            break
        await asyncio.sleep(0.01)
    fake = FakeAsterisk(server.bound_port, pause_at="GET DATA")
    call_task = asyncio.create_task(fake.run())
    await asyncio.wait_for(fake.reached.wait(), timeout=2)
    assert server.status() == {
        "listening": True,
        "port": server.bound_port,
        "calls": 1,
        "routes": ["callback", "duty", "ivr", "message", "survey"],
    }
    running.cancel()  # run() closes: the call in progress ends, nothing is left listening
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(running, timeout=2)
    fake.release.set()
    with contextlib.suppress(ConnectionError):
        await asyncio.wait_for(call_task, timeout=2)
    assert server.status()["listening"] is False and server.status()["calls"] == 0


# Misbehaving peers --------------------------------------------------------------
async def test_bad_peers_do_not_disturb_a_call(make_server: ServerFactory) -> None:
    server = await make_server(header_timeout_seconds=0.2)
    port = server.bound_port
    good = FakeAsterisk(port, answers={"GET DATA": ["200 result=3"]}, pause_at="GET DATA")
    running = asyncio.create_task(good.run())
    await asyncio.wait_for(good.reached.wait(), timeout=2)

    # Connects and closes at once (a port scan).
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()

    # Half a header, then closes its side.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header("ivr")[:40])
    writer.write_eof()
    assert await closed_by_server(reader)
    writer.close()

    # Garbage.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x00\xff\xfeGET / HTTP/1.0\n\n")
    assert await closed_by_server(reader)
    writer.close()

    # A header bigger than the cap.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"agi_x: " + b"y" * 10_000 + b"\n\n")
    assert await closed_by_server(reader)
    writer.close()

    # Half a header, then silence: dropped after header_timeout_seconds.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header("ivr")[:40])
    assert await closed_by_server(reader)
    writer.close()

    good.release.set()
    await asyncio.wait_for(running, timeout=2)
    assert good.variables["HOTLINE_QUEUE"] == "complaint"
    assert good.variables["HOTLINE_IVR_RESULT"] == "chosen"


async def test_peer_not_allowed_is_refused(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server(allowed_peers=["192.0.2.1"])
    reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
    writer.write(header("ivr"))
    assert await closed_by_server(reader)
    writer.close()
    assert any(r.levelno == logging.WARNING and "refused" in r.getMessage() for r in caplog.records)


async def test_allowed_peers_may_be_networks(make_server: ServerFactory) -> None:
    server = await make_server(allowed_peers=["127.0.0.0/8"])
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=1"]})
    assert fake.variables["HOTLINE_QUEUE"] == "consultation"


def test_allowed_peers_must_be_addresses(menu: IvrConfig) -> None:
    settings = AgiSettings(allowed_peers=["asterisk.example"])
    with pytest.raises(ConfigError, match=r"agi\.allowed_peers"):
        FastAGIServer(settings, build_routes(menu))


async def test_calls_run_concurrently(server: FastAGIServer) -> None:
    fakes = [
        FakeAsterisk(server.bound_port, answers={"GET DATA": [f"200 result={key}"]})
        for key in "12345"
    ]
    done = await asyncio.wait_for(asyncio.gather(*(f.run() for f in fakes)), timeout=2)
    queues = [f.variables["HOTLINE_QUEUE"] for f in done]
    assert queues == ["consultation", "help", "complaint", "report", "suggestion"]
