"""The IVR's speech step through the real FastAGI server and a fake Asterisk, with a
stand-in recognition service that answers with a given outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from hotline.agi.settings import AgiSettings
from hotline.agi.speech import SpeechClient
from hotline.agi.tree import IvrConfig
from hotline.agi.worker import FastAGIServer, build_routes
from hotline.speech.grammar import Outcome
from tests.helpers.fake_asterisk import call


class StandIn:
    """Answers the control line: ready (or not), then the outcome once AudioSocket ran."""

    def __init__(self, ready: bool, outcome: Outcome | None = None, reason: str = "") -> None:
        self.ready, self.outcome, self.reason = ready, outcome, reason
        self.requests: list[dict[str, object]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(json.loads(await reader.readline()))
        writer.write(json.dumps({"ready": self.ready, "reason": self.reason}).encode() + b"\n")
        if self.ready and self.outcome is not None:
            writer.write(self.outcome.to_json().encode() + b"\n")
        await writer.drain()
        writer.close()


Flagged = list[tuple[str, str, str]]
Make = Callable[[StandIn | None], Awaitable[FastAGIServer]]
SpeechIvr = tuple[Make, Flagged]
EXEC_OK = ["200 result=0"] * 2  # AudioSocket returned (hung up by the service), UserEvent


@pytest.fixture
async def speech_ivr(menu: IvrConfig) -> AsyncIterator[SpeechIvr]:
    servers: list[FastAGIServer] = []
    flagged: Flagged = []
    stand_ins: list[StandIn] = []

    async def flag(linkedid: str, line: str, word: str) -> None:
        flagged.append((linkedid, line, word))

    async def make(stand_in: StandIn | None) -> FastAGIServer:
        port = 9  # nothing listens: the service is unreachable
        if stand_in is not None:
            port = await stand_in.start()
            stand_ins.append(stand_in)
        client = SpeechClient("127.0.0.1", port, 3, 0.6, keywords={"119": ["着火"]}, flag=flag)
        settings = AgiSettings().model_copy(update={"port": 0, "call_timeout_seconds": 2.0})
        server = FastAGIServer(settings, build_routes(menu, speech=client))
        await server.start()
        servers.append(server)
        return server

    yield make, flagged
    for server in servers:
        await server.close()
    for s in stand_ins:
        if s.server is not None:
            s.server.close()


async def test_a_phrase_heard_chooses_its_key(speech_ivr: SpeechIvr) -> None:
    make, _ = speech_ivr
    heard = Outcome("phrase", key="3", text="投诉", confidence=0.91)
    stand_in = StandIn(True, heard)
    server = await make(stand_in)
    fake = await call(server.bound_port, answers={"EXEC": EXEC_OK})
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "3", fake.commands
    assert fake.variables["HOTLINE_REQUEST_TYPE"] == "complaint"
    assert "GET DATA" not in fake.verbs  # no key menu
    socket = [a for a in fake.args_of("EXEC") if a[0] == "AudioSocket"]
    assert len(socket) == 1 and socket[0][1].endswith(f",127.0.0.1:{stand_in.port}")
    event = next(a[1] for a in fake.args_of("EXEC") if a[0] == "UserEvent")
    assert event.startswith("HotlineSpeech,Kind: phrase,Text: 投诉,Confidence: 0.910,Choice: 3")
    request = stand_in.requests[0]
    assert request["prompt"] == "hotline/speech-menu" and request["keywords"] == {"119": ["着火"]}
    assert request["phrases"]["3"][0] == "投诉"  # type: ignore[index]


async def test_a_keyword_offers_its_line_and_1_connects(speech_ivr: SpeechIvr) -> None:
    make, flagged = speech_ivr
    heard = Outcome("keyword", text="着火", confidence=0.9, line="119", word="着火")
    server = await make(StandIn(True, heard))
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=1"], "EXEC": EXEC_OK})
    assert fake.args_of("GET DATA")[0][0] == "hotline/speech-offer-119"
    assert fake.variables["HOTLINE_TRANSFER"] == "119"
    assert fake.variables["HOTLINE_EMERGENCY"] == "1"
    await asyncio.sleep(0)  # the flag runs beside the call
    assert flagged == [("1700000000.1", "119", "着火")]


async def test_a_keyword_offer_declined_with_a_menu_key_goes_there(speech_ivr: SpeechIvr) -> None:
    make, _ = speech_ivr
    heard = Outcome("keyword", text="着火", confidence=0.9, line="119", word="着火")
    server = await make(StandIn(True, heard))
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=4"], "EXEC": EXEC_OK})
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "4" and "HOTLINE_TRANSFER" not in fake.variables


@pytest.mark.parametrize(
    "stand_in",
    [
        StandIn(False, reason="all 2 recognisers are busy"),
        StandIn(True, Outcome("unsure", text="投诉", confidence=0.3)),
        StandIn(True, Outcome("nothing")),
        None,  # the service is not running
    ],
    ids=["pool-full", "low-confidence", "silence", "unreachable"],
)
async def test_no_usable_result_gives_the_key_menu(
    speech_ivr: SpeechIvr, stand_in: StandIn | None
) -> None:
    make, _ = speech_ivr
    server = await make(stand_in)
    fake = await call(server.bound_port, answers={"GET DATA": ["200 result=3"], "EXEC": EXEC_OK})
    assert fake.args_of("GET DATA") == [["hotline/menu", "5000", "1"]]
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "3"
    ran_socket = any(a[0] == "AudioSocket" for a in fake.args_of("EXEC"))
    assert ran_socket == (stand_in is not None and stand_in.ready)
