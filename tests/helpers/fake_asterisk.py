"""A fake Asterisk for the FastAGI server's tests: one call as Asterisk would place it.

The fake speaks raw AGI: it sends the header block, answers each command from a
script and records every SET VARIABLE (the idea of wazo-agid's test helper).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hotline.agi.protocol import split_args

QUEUES = [
    "consultation",
    "help",
    "complaint",
    "report",
    "suggestion",
    "enterprise",
    "zhuang",
    "general",
]
CALLER = "13800138000"
SILENT = "<no answer>"  # the fake reads the command and never answers
TWO_WORD_VERBS = {"STREAM FILE", "GET DATA", "SET VARIABLE", "GET VARIABLE", "GET FULL"}
DEFAULT_ANSWERS = {
    "STREAM FILE": "200 result=0 endpos=100",
    "GET DATA": "200 result= (timeout)",
    "SET VARIABLE": "200 result=1",
    "VERBOSE": "200 result=1",
    "GET FULL VARIABLE": "200 result=1 (1)",  # one agent logged in to the queue
}


# The agi_server fixture (tests/unit/agi/conftest.py): make(config, services, rules=None)
# starts the real server; returns its port.
AgiServerFactory = Callable[..., Awaitable[int]]


def header(script: str, callerid: str = CALLER, args: tuple[str, ...] = ()) -> bytes:
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1:4573/{script}",
        "agi_channel: PJSIP/trunk-00000001",
        "agi_language: zh",
        "agi_type: PJSIP",
        "agi_uniqueid: 1700000000.1",
        "agi_version: 22.0.0",
        f"agi_callerid: {callerid}",
        "agi_calleridname: unknown",
        "agi_dnid: 12345",
        "agi_context: hotline-in",
        "agi_extension: 12345",
        "agi_priority: 3",
        "agi_accountcode: ",
        *(f"agi_arg_{i}: {a}" for i, a in enumerate(args, 1)),
    ]
    return ("\n".join(lines) + "\n\n").encode()


class FakeAsterisk:
    """One call as Asterisk would place it over FastAGI."""

    def __init__(
        self,
        port: int,
        *,
        script: str = "ivr",
        answers: Mapping[str, list[str]] | None = None,
        pause_at: str | None = None,
        args: tuple[str, ...] = (),
        callerid: str = CALLER,
    ) -> None:
        self.port = port
        self.args = args
        self.callerid = callerid
        self.script = script
        self.answers = {verb: list(lines) for verb, lines in (answers or {}).items()}
        self.pause_at = pause_at
        self.reached = asyncio.Event()  # set when the pause_at command arrives
        self.release = asyncio.Event()  # set by the test to answer it
        self.commands: list[list[str]] = []
        self.variables: dict[str, str] = {}

    @property
    def verbs(self) -> list[str]:
        return [verb_of(args) for args in self.commands]

    def args_of(self, verb: str) -> list[list[str]]:
        return [args[len(verb.split()) :] for args in self.commands if verb_of(args) == verb]

    async def run(self) -> FakeAsterisk:
        """Play the call until the server closes the connection."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(header(self.script, self.callerid, self.args))
            await writer.drain()
            while line := await reader.readline():
                args = split_args(line.decode())
                verb = verb_of(args)
                self.commands.append(args)
                if verb == "SET VARIABLE":
                    self.variables[args[2]] = args[3]
                if verb == self.pause_at and not self.reached.is_set():
                    self.reached.set()
                    await self.release.wait()
                queued = self.answers.get(verb)
                answer = queued.pop(0) if queued else DEFAULT_ANSWERS.get(verb, "510 Invalid")
                if answer != SILENT:
                    writer.write(answer.encode() + b"\n")
                    await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        return self


def verb_of(args: list[str]) -> str:
    two = " ".join(args[:2])
    if two == "GET FULL":
        return "GET FULL VARIABLE"
    return two if two in TWO_WORD_VERBS else args[0]


async def call(port: int, **kwargs: Any) -> FakeAsterisk:
    return await asyncio.wait_for(FakeAsterisk(port, **kwargs).run(), timeout=2)
