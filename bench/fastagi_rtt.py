"""Measurement 5: FastAGI command round trip at 100 concurrent channels.

Our FastAGI server runs a route that sends GET VARIABLE in a loop; 100 fake
Asterisk channels answer at once. The server-side round trip of each command is
compared with a bare asyncio line echo measured the same way in the same run.
"""

from __future__ import annotations

import asyncio
import time

from bench.harness import percentile
from hotline.agi.channel import AGIChannel
from hotline.agi.settings import AgiSettings
from hotline.agi.worker import FastAGIServer

COMMANDS = 200


async def _fake_asterisk(port: int, script: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"agi_network: yes\nagi_network_script: {script}\nagi_uniqueid: 1.1\n\n".encode())
    await writer.drain()
    while line := await reader.readline():
        if line.startswith(b"GET VARIABLE"):
            writer.write(b"200 result=1 (x)\n")
            await writer.drain()
    writer.close()


async def fastagi(channels: int = 100) -> list[float]:
    samples: list[float] = []

    async def route(agi: AGIChannel) -> None:
        for _ in range(COMMANDS):
            t = time.perf_counter()
            await agi.get_variable("X")
            samples.append((time.perf_counter() - t) * 1e6)

    settings = AgiSettings().model_copy(update={"port": 0, "call_timeout_seconds": 300})
    server = FastAGIServer(settings, {"bench": route})
    await server.start()
    await asyncio.gather(*(_fake_asterisk(server.bound_port, "bench") for _ in range(channels)))
    await server.close()
    return samples


async def echo(channels: int = 100) -> list[float]:
    samples: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(COMMANDS):
            t = time.perf_counter()
            writer.write(b'GET VARIABLE "X"\n')
            await writer.drain()
            await reader.readline()
            samples.append((time.perf_counter() - t) * 1e6)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while line := await reader.readline():
            if line.startswith(b"GET VARIABLE"):
                writer.write(b"200 result=1 (x)\n")
                await writer.drain()
        writer.close()

    await asyncio.gather(*(client() for _ in range(channels)))
    server.close()
    return samples


def measure() -> dict[str, float]:
    eng = asyncio.run(fastagi())
    ref = asyncio.run(echo())
    return {
        "eng_p50": percentile(eng, 50),
        "eng_p99": percentile(eng, 99),
        "ref_p50": percentile(ref, 50),
        "ref_p99": percentile(ref, 99),
        "samples": float(len(eng)),
    }
