"""One call as seen over FastAGI: send a command, read its response, typed helpers."""

from __future__ import annotations

import asyncio
import logging

from hotline.agi.errors import AGIDeadChannel, AGIError, AGIHangup, AGIProtocolError
from hotline.agi.protocol import format_command, read_response, script_name
from hotline.agi.result import AGIResult

log = logging.getLogger(__name__)


class AGIChannel:
    """Commands to one channel, one at a time, over the connection Asterisk opened.

    After a hangup (a `HANGUP` line, a 511, a closed socket) every further command
    raises AGIHangup at once: the route ends and the server closes the connection.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        headers: dict[str, str],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._headers = dict(headers)
        self._lock = asyncio.Lock()
        self._hung_up = False
        self._broken = False

    # Call facts from the header block ------------------------------------
    @property
    def headers(self) -> dict[str, str]:
        return self._headers

    @property
    def script(self) -> str:
        """The route name: `ivr` for AGI(agi://127.0.0.1:4573/ivr?x=1)."""
        return script_name(self._headers)

    @property
    def uniqueid(self) -> str:
        return self._headers.get("agi_uniqueid", "")

    @property
    def callerid(self) -> str:
        """The caller's number. Log it only through kernel.masking.mask_number."""
        return self._headers.get("agi_callerid", "")

    @property
    def arguments(self) -> list[str]:
        """agi_arg_1, agi_arg_2, … in order."""
        out: list[str] = []
        while (value := self._headers.get(f"agi_arg_{len(out) + 1}")) is not None:
            out.append(value)
        return out

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    # The command loop ----------------------------------------------------
    async def command(self, verb: str, *args: str | int) -> AGIResult:
        """Send `VERB "arg" …` and read its response; AGIError on a code other than 200."""
        line = format_command(verb, *(str(a) for a in args))
        async with self._lock:
            if self._hung_up:
                raise AGIHangup("the caller has hung up")
            if self._broken:
                raise AGIProtocolError("the connection is out of step; no more commands")
            try:
                self._writer.write(line.encode("utf-8"))
                await self._writer.drain()
                result = await read_response(self._reader)
            except ConnectionError as exc:
                self._hung_up = True
                raise AGIHangup("connection lost") from exc
            except AGIHangup:
                self._hung_up = True
                raise
            except AGIProtocolError:
                self._broken = True
                raise
        if result.code == 511:
            self._hung_up = True
            raise AGIDeadChannel(result, verb)
        if not result.ok:
            raise AGIError(result, verb)
        return result

    # Helpers -------------------------------------------------------------
    async def answer(self) -> None:
        result = await self.command("ANSWER")
        if result.result == "-1":
            raise AGIHangup("ANSWER failed")

    async def stream_file(self, name: str, escape_digits: str = "") -> str | None:
        """Play a sound file; the key that interrupted it, or None.

        A result of -1 means the file could not be played or the caller hung up;
        in the second case the next command raises AGIHangup.
        """
        result = await self.command("STREAM FILE", name, escape_digits)
        code = _int_result(result, "STREAM FILE")
        if code < 0:
            log.warning("STREAM FILE %s failed (missing sound file or hangup)", name)
            return None
        return chr(code) if code > 0 else None

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str | None:
        """Play a prompt and collect up to max_digits keys (ended early by '#').

        None: the timeout passed with no key. "" is possible when only '#' was pressed.
        """
        result = await self.command("GET DATA", prompt, timeout_ms, max_digits)
        if result.result == "-1":
            raise AGIHangup("GET DATA returned -1")
        if result.result == "" and result.data == "timeout":
            return None
        return result.result

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None when it is not set."""
        result = await self.command("GET VARIABLE", name)
        return result.data if result.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """An expression with functions, e.g. ${QUEUE_MEMBER(q,logged)}; None if unset."""
        result = await self.command("GET FULL VARIABLE", expression)
        return result.data if result.result == "1" else None

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", message, level)


def _int_result(result: AGIResult, verb: str) -> int:
    try:
        return int(result.result)
    except ValueError:
        raise AGIProtocolError(f"{verb}: result is not a number: {result.result!r}") from None
