"""Speech navigation in the voice menu: ask the recognition service (speech/server.py) to
listen while Asterisk streams the caller's audio to it (AudioSocket), then act on what it
heard: a key, a menu phrase, an emergency keyword (offer the line, flag the call), or
nothing, in which case the caller gets the key menu as before.

Nothing here may keep a caller waiting: the service answers at once when it cannot listen
(model missing, every recogniser busy), and any failure is the key menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.acd.emergency_mark import mark
from hotline.acd.membership import ami_session
from hotline.agi.errors import AGIError
from hotline.agi.settings import AgiConfig
from hotline.agi.tree import MenuNode, SpeechMenu, TransferNode
from hotline.kernel.redis_conn import redis_client
from hotline.speech.grammar import Outcome

if TYPE_CHECKING:
    from hotline.agi.call import Call

log = logging.getLogger(__name__)

CONNECT_SECONDS = 1.0
REPLY_SECONDS = 2.0
OUTCOME_SECONDS = 3.0
OFFER_TIMEOUT_MS = 6000

# (linkedid, line, word): tell the supervisors (acd.emergency_mark) that a caller said it
Flag = Callable[[str, str, str], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class SpeechClient:
    host: str
    port: int
    listen_seconds: float
    min_confidence: float
    keywords: dict[str, list[str]] = field(default_factory=dict)
    flag: Flag | None = None

    @classmethod
    def from_settings(cls, settings: AgiConfig, flag: Flag | None = None) -> SpeechClient:
        s = settings.speech
        return cls(
            host=s.host,
            port=s.port,
            listen_seconds=s.listen_seconds,
            min_confidence=s.min_confidence,
            keywords={k: v for k, v in settings.emergency.keywords().items() if v},
            flag=flag,
        )

    async def listen(self, call: Call, menu: SpeechMenu) -> Outcome:
        """Play the menu's speech prompt and listen; what was heard (never raises for the
        service's sake: an unreachable or failing service is Outcome("unavailable"))."""
        session = str(uuid.uuid4())
        request = {
            "uuid": session,
            "prompt": call.sound(menu.prompt),
            "phrases": menu.phrases,
            "keywords": self.keywords if menu.keywords else {},
            "listen_seconds": menu.listen_seconds or self.listen_seconds,
            "min_confidence": self.min_confidence,
        }
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), CONNECT_SECONDS
            )
        except (OSError, TimeoutError) as exc:
            return Outcome("unavailable", reason=f"speech service not reachable: {exc}")
        try:
            writer.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), REPLY_SECONDS) or b"{}")
            if not reply.get("ready"):
                return Outcome("unavailable", reason=str(reply.get("reason", "not ready")))
            # returns when the service hangs up the socket (or the caller hangs up)
            ran = await call.agi.command(
                "EXEC", "AudioSocket", f"{session},{self.host}:{self.port}"
            )
            if ran.result == "-1":  # could not connect, or the caller hung up (next command)
                return Outcome("unavailable", reason="AudioSocket() failed")
            line = await asyncio.wait_for(reader.readline(), OUTCOME_SECONDS)
            if not line:
                return Outcome("unavailable", reason="the speech service gave no outcome")
            return Outcome.from_json(line.decode())
        except (OSError, TimeoutError, ValueError, TypeError, AGIError) as exc:
            return Outcome("unavailable", reason=f"speech failed: {exc}")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def speech_menu(call: Call, name: str, node: MenuNode) -> tuple[str | None, str | None]:
    """Listen at a menu with speech: (a key for the menu, or None for the key menu;
    a node to go to at once (an emergency line taken), or None)."""
    client, menu = call.speech, node.speech
    if client is None or menu is None:
        return None, None
    outcome = await client.listen(call, menu)
    log.info(
        "call %s: menu %s: speech %s %s %s",
        call.agi.uniqueid,
        name,
        outcome.kind,
        outcome.confidence if outcome.confidence is not None else "",
        outcome.reason,
    )
    if outcome.kind != "unavailable" or call.heard is None:
        call.heard = outcome
    await _report(call, outcome)
    if outcome.kind in ("key", "phrase"):
        return outcome.key, None
    if outcome.kind == "keyword":
        return await _offer_line(call, node, outcome)
    return None, None


async def _offer_line(call: Call, node: MenuNode, heard: Outcome) -> tuple[str | None, str | None]:
    """A keyword was heard: flag the call, offer its line (1 connects); another key goes
    on to the menu."""
    client = call.speech
    if client is not None and client.flag is not None:
        task = asyncio.create_task(client.flag(call.agi.uniqueid, heard.line, heard.word))
        _background.add(task)
        task.add_done_callback(_background.discard)
    target = next(
        (
            n
            for n, t in call.tree.nodes.items()
            if isinstance(t, TransferNode) and t.number == heard.line
        ),
        None,
    )
    if target is None:
        log.warning("call %s: no transfer node for line %s", call.agi.uniqueid, heard.line)
        return None, None
    got = await call.agi.get_data(call.sound(f"speech-offer-{heard.line}"), OFFER_TIMEOUT_MS, 1)
    if got == "1":
        call.keys.append(f"s{heard.line}")
        return None, target
    return (got if got and got in node.keys else None), None


_background: set[asyncio.Task[None]] = set()


def _field(text: str) -> str:
    """A value for a UserEvent: no commas (they split the application's arguments)."""
    return " ".join(text.replace(",", " ").replace("|", " ").split())[:100]


async def _report(call: Call, outcome: Outcome) -> None:
    """UserEvent(HotlineSpeech): the bridge writes it on the call record."""
    if outcome.kind == "unavailable":
        return
    conf = f"{outcome.confidence:.3f}" if outcome.confidence is not None else ""
    body = (
        f"HotlineSpeech,Kind: {outcome.kind},Text: {_field(outcome.text)},Confidence: {conf},"
        f"Choice: {_field(outcome.key)},Line: {_field(outcome.line)},Word: {_field(outcome.word)}"
    )
    with contextlib.suppress(AGIError):
        await call.agi.command("EXEC", "UserEvent", body)


def supervisor_flag(settings: AgiConfig) -> Flag:
    """Mark the call an emergency for the supervisors (wallboard, alarm) as an agent's 紧急标记
    does; a failure is logged, the caller is served regardless."""

    async def flag(linkedid: str, line: str, word: str) -> None:

        r = redis_client(settings)
        try:
            async with ami_session(settings) as ami:
                await mark(settings, ami, r, by=f"speech {line} {word}", linkedid=linkedid)
        except Exception as exc:
            log.warning("call %s: keyword %s not flagged to supervisors: %s", linkedid, word, exc)
        finally:
            await r.aclose()

    return flag
