"""The recognition service: Asterisk streams a caller's audio here (AudioSocket) while the
FastAGI flow waits for what was heard.

Two kinds of connection share the port. The IVR opens a control connection and sends one
JSON line (the call's UUID, the prompt, the menu's phrases and the emergency keywords); the
answer comes at once: ready, or not (model missing or loading, every recogniser busy) so
that the caller gets the key menu without waiting. Then the IVR runs AudioSocket(uuid,…):
Asterisk connects, we play the prompt and listen at the same time (speech or a key stops
the prompt), and on a key, a phrase, a keyword or the end of the listening time we write
the outcome on the control connection and hang up the AudioSocket, which returns to the
IVR. The IVR going away (the caller hung up) ends the session too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from hotline.speech import audiosocket as aus
from hotline.speech.grammar import Grammar, Outcome
from hotline.speech.model import problem, shared_model
from hotline.speech.pool import RecogniserPool, pool_size
from hotline.speech.prompt import load_prompt, prompt_file
from hotline.speech.recogniser import Recogniser
from hotline.speech.settings import SpeechConfig

if TYPE_CHECKING:
    import vosk

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
STATUS_REQUEST = b'{"status": true}'
DECODE_FRAMES = 5  # 100 ms of audio per decoding step


@dataclass(frozen=True)
class Request:
    uuid: str
    prompt: str  # a sound name under Asterisk's sounds directory, without extension
    grammar: Grammar
    listen_seconds: float
    min_confidence: float

    @classmethod
    def parse(cls, line: bytes, settings: SpeechConfig) -> Request:
        data = json.loads(line)
        if not isinstance(data, dict) or not isinstance(data.get("uuid"), str):
            raise ValueError("a request is a JSON object with a uuid")
        grammar = Grammar(
            phrases={str(k): [str(p) for p in v] for k, v in data.get("phrases", {}).items()},
            keywords={str(k): [str(w) for w in v] for k, v in data.get("keywords", {}).items()},
        )
        return cls(
            uuid=data["uuid"],
            prompt=str(data.get("prompt", "")),
            grammar=grammar,
            listen_seconds=float(data.get("listen_seconds", settings.speech.listen_seconds)),
            min_confidence=float(data.get("min_confidence", settings.speech.min_confidence)),
        )


@dataclass
class Session:
    request: Request
    done: asyncio.Future[Outcome]
    connected: asyncio.Event = field(default_factory=asyncio.Event)


# The menu's phrase lists checked against a loaded model: one line per problem. The
# composition root passes the IVR's check (agi/phrases.py); speech knows no menus.
PhraseCheck = Callable[["vosk.Model"], list[str]]


class SpeechService:
    def __init__(self, settings: SpeechConfig, check_phrases: PhraseCheck | None = None) -> None:
        self.settings = settings
        self.check_phrases = check_phrases
        self.pool = RecogniserPool(pool_size(settings.speech.pool_size))
        self.model: vosk.Model | None = None
        self.unavailable: str | None = "the speech model is loading"
        self.sessions: dict[str, Session] = {}
        self._server: asyncio.Server | None = None
        self._loading: asyncio.Task[None] | None = None

    @property
    def sounds_dir(self) -> Any:
        return self.settings.root / "usr/share/asterisk/sounds"

    async def start(self) -> None:
        s = self.settings.speech
        self._server = await asyncio.start_server(self._connection, s.host, s.port)
        why = problem(self.settings.speech_model_dir)
        if why is not None:
            self.unavailable = why
            log.warning("speech navigation off: %s", why)
        else:
            self._loading = asyncio.create_task(self._load(), name="speech-model")
        log.info("speech service on %s:%s, %d recognisers", s.host, s.port, self.pool.size)

    async def wait_loaded(self) -> None:
        if self._loading is not None:
            await self._loading

    async def _load(self) -> None:
        started = time.monotonic()
        try:
            self.model = await asyncio.to_thread(shared_model, self.settings.speech_model_dir)
        except Exception as exc:  # a broken model: speech stays off, calls get the key menu
            self.unavailable = f"the speech model does not load: {exc}"
            log.error("speech navigation off: %s", self.unavailable)
            return
        self.unavailable = None
        log.info("speech model loaded in %.1f s", time.monotonic() - started)
        await asyncio.to_thread(self._check_phrases)

    def _check_phrases(self) -> None:
        """Log each configured phrase the model cannot hear (hotline speech check-phrases)."""
        if self.check_phrases is None or self.model is None:
            return
        for problem_line in self.check_phrases(self.model):
            log.warning("%s", problem_line)

    @property
    def port(self) -> int:
        """The port listened on (settings.speech.port, or the one picked for port 0)."""
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    def status(self) -> dict[str, Any]:
        return {
            "ready": self.unavailable is None,
            "reason": self.unavailable or "",
            "busy": self.pool.busy,
            "size": self.pool.size,
        }

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        try:
            await self._server.serve_forever()
        finally:
            self.pool.close()

    async def run(self) -> None:
        """Listen, serve until cancelled, then close."""
        await self.start()
        try:
            await self.serve_forever()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._loading is not None:
            self._loading.cancel()
        self.pool.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(reader.readexactly(1), 10)
            if first == b"{":
                await self._control(first, reader, writer)
            elif first[0] == aus.KIND_UUID:
                await self._audio(first, reader, writer)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("speech connection failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # ---- the IVR's side ----------------------------------------------------
    async def _control(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        line = first + await asyncio.wait_for(reader.readuntil(b"\n"), 5)
        if len(line) > MAX_REQUEST:
            raise ValueError("speech request too long")
        if line.strip() == STATUS_REQUEST:
            await _reply(writer, self.status())
            return
        try:
            request = Request.parse(line, self.settings)
        except (ValueError, TypeError, AttributeError) as exc:
            await _reply(writer, {"ready": False, "reason": f"bad request: {exc}"})
            return
        reason = self.unavailable
        if reason is None and request.uuid in self.sessions:
            reason = "a session with this uuid is under way"
        if reason is None and not self.pool.try_take():
            reason = f"all {self.pool.size} recognisers are busy"
        if reason is not None:
            await _reply(writer, {"ready": False, "reason": reason})
            return
        session = Session(request, asyncio.get_running_loop().create_future())
        self.sessions[request.uuid] = session
        try:
            await _reply(writer, {"ready": True})
            outcome = await self._outcome(session, reader)
            if outcome is not None:
                writer.write(outcome.to_json().encode() + b"\n")
                await writer.drain()
        finally:
            del self.sessions[request.uuid]
            if not session.done.done():
                session.done.cancel()
            self.pool.give_back()

    async def _outcome(self, session: Session, reader: asyncio.StreamReader) -> Outcome | None:
        """The session's outcome; None when the IVR went away first."""
        gone: asyncio.Future[Any] = asyncio.ensure_future(reader.read(1))
        try:
            connect = self.settings.speech.connect_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(session.connected.wait()), connect)
            if not session.connected.is_set():
                return Outcome("unavailable", reason="Asterisk did not connect the audio")
            waits: set[asyncio.Future[Any]] = {gone, session.done}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            return session.done.result() if session.done.done() else None
        finally:
            gone.cancel()

    # ---- Asterisk's side ---------------------------------------------------
    async def _audio(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        rest = await asyncio.wait_for(reader.readexactly(2), 5)
        length = int.from_bytes(rest, "big")
        frame = aus.Frame(first[0], await asyncio.wait_for(reader.readexactly(length), 5))
        session = self.sessions.get(aus.call_uuid(frame))
        if session is None or session.connected.is_set() or session.done.done():
            writer.write(aus.HANGUP)
            await writer.drain()
            return
        session.connected.set()
        try:
            outcome = await self._listen(session.request, reader, writer)
        except Exception as exc:
            log.exception("speech session %s failed", session.request.uuid)
            outcome = Outcome("unavailable", reason=f"recognition failed: {exc}")
        if not session.done.done():
            session.done.set_result(outcome)
        with contextlib.suppress(ConnectionError):
            writer.write(aus.HANGUP)
            await writer.drain()

    async def _listen(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Outcome:
        model = self.model
        if model is None:
            return Outcome("unavailable", reason=self.unavailable or "no model")
        grammar_json = request.grammar.to_json()
        recogniser = await self.pool.run(lambda: Recogniser(model, grammar_json))
        prompt = (
            load_prompt(prompt_file(self.sounds_dir, request.prompt)) if request.prompt else b""
        )
        speaking = asyncio.Event()  # the caller speaks: the prompt stops (barge-in)
        player = asyncio.create_task(_play(writer, prompt, speaking))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + len(prompt) / (2 * aus.SAMPLE_RATE) + request.listen_seconds
        chunk: list[bytes] = []
        try:
            while (left := deadline - loop.time()) > 0:
                try:
                    frame = await asyncio.wait_for(aus.read_frame(reader), left)
                except TimeoutError:
                    break
                if frame.kind == aus.KIND_DTMF:
                    return Outcome("key", key=aus.dtmf_key(frame))
                if frame.kind in (aus.KIND_HANGUP, aus.KIND_ERROR):
                    return Outcome("nothing", reason="the call left the AudioSocket")
                if frame.kind != aus.KIND_AUDIO:
                    continue
                chunk.append(frame.payload)
                if len(chunk) < DECODE_FRAMES:
                    continue
                pcm, chunk = b"".join(chunk), []
                result, under_way = await self.pool.run(partial(recogniser.accept, pcm))
                if under_way:
                    speaking.set()
                if result is not None:
                    outcome = request.grammar.interpret(result, request.min_confidence)
                    if outcome.kind != "nothing":
                        return outcome
            if chunk:
                await self.pool.run(lambda: recogniser.accept(b"".join(chunk)))
            final = await self.pool.run(recogniser.final)
            return request.grammar.interpret(final, request.min_confidence)
        finally:
            player.cancel()


async def _play(writer: asyncio.StreamWriter, pcm: bytes, stop: asyncio.Event) -> None:
    """Send the prompt in 20 ms frames at the pace Asterisk plays them, then silence until
    cancelled: AudioSocket() gives up after 2 s with no frame either way, and a caller's
    phone may send no RTP while it is quiet."""
    silence = b"\x00" * aus.FRAME_BYTES
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = 0
    while True:
        at = n * aus.FRAME_BYTES
        frame = pcm[at : at + aus.FRAME_BYTES] if at < len(pcm) and not stop.is_set() else silence
        writer.write(aus.audio(frame))
        n += 1
        # a little ahead of real time, so that Asterisk's jitter never starves
        wait = start + (n - 2) * aus.FRAME_SECONDS - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        elif n % 50 == 0:
            await asyncio.sleep(0)


async def _reply(writer: asyncio.StreamWriter, data: dict[str, Any]) -> None:
    writer.write(json.dumps(data, ensure_ascii=False).encode() + b"\n")
    await writer.drain()
