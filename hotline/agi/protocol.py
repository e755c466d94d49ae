"""The AGI wire protocol: quoting, the header block, response lines.

Pure functions and one reader coroutine; no sockets are opened here. A parsed line is an
AGIResult (result.py); what goes wrong raises the exceptions of errors.py.
"""

from __future__ import annotations

import asyncio
import re

from hotline.agi.errors import AGIHangup, AGIProtocolError
from hotline.agi.result import AGIResult

# A response block longer than this many lines is not AGI (Asterisk's usage texts are short).
MAX_RESPONSE_LINES = 200

_HEADER_RE = re.compile(r"^(agi_[a-z0-9_]+): ?(.*)$")
_RESPONSE_RE = re.compile(r"^(\d{3})([ -])(.*)$")
_RESULT_RE = re.compile(r"^result=(\S*)(?: (.*))?$")
# "(data) key=value …": the data may hold parentheses and spaces (GET VARIABLE values).
_DATA_RE = re.compile(r"^\((.*)\)((?: [A-Za-z_]+=\S*)*)$")
_EXTRA_RE = re.compile(r"^(?: ?[A-Za-z_]+=\S*)*$")
_VERB_RE = re.compile(r"^[A-Z]+(?: [A-Z]+)*$")


def quote(arg: str) -> str:
    """One AGI argument: `\\` and `"` escaped, CR/LF made spaces, in double quotes.

    Caller-controlled text (a caller name, a CRM field) can then never end the
    command line early and inject a second command.
    """
    text = arg.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return f'"{text}"'


def format_command(verb: str, *args: str) -> str:
    """`VERB "arg" "arg"` plus a newline. The verb is ours and must be plain words."""
    if not _VERB_RE.match(verb):
        raise ValueError(f"not an AGI command verb: {verb!r}")
    return " ".join([verb, *(quote(a) for a in args)]) + "\n"


def split_args(line: str) -> list[str]:
    """Split a command line as Asterisk's res_agi parse_args does (quotes and `\\`).

    The inverse of `format_command`; used by fake Asterisk peers in tests.
    """
    out: list[str] = []
    cur: list[str] = []
    in_quotes = escaped = started = False
    for ch in line.rstrip("\r\n"):
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = started = True
        elif ch == '"':
            in_quotes = not in_quotes
            started = True
        elif ch in " \t" and not in_quotes:
            if started:
                out.append("".join(cur))
                cur, started = [], False
        else:
            cur.append(ch)
            started = True
    if started:
        out.append("".join(cur))
    return out


def parse_headers(block: bytes | str) -> dict[str, str]:
    """The `agi_xxx: value` block Asterisk sends first, ended by an empty line."""
    text = block.decode("utf-8", errors="replace") if isinstance(block, bytes) else block
    headers: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line:
            continue
        m = _HEADER_RE.match(line)
        if m is None:
            raise AGIProtocolError(f"not an AGI header line: {line[:60]!r}")
        headers[m.group(1)] = m.group(2)
    if "agi_network_script" not in headers and "agi_request" not in headers:
        raise AGIProtocolError("AGI header block without agi_request or agi_network_script")
    return headers


def script_name(headers: dict[str, str]) -> str:
    """The route: `agi_network_script` (or the path of `agi_request`), no `/`, no query."""
    script = headers.get("agi_network_script")
    if script is None:
        request = headers.get("agi_request", "")
        _, sep, rest = request.partition("://")
        script = rest.partition("/")[2] if sep else request
    return script.split("?", 1)[0].strip("/")


def parse_result_line(line: str) -> AGIResult:
    """Parse one single-line response, e.g. `200 result=1 (timeout) endpos=1234`."""
    line = line.rstrip("\r\n")
    m = _RESPONSE_RE.match(line)
    if m is None or m.group(2) != " ":
        raise AGIProtocolError(f"not an AGI response line: {line[:60]!r}")
    code, text = int(m.group(1)), m.group(3)
    if code != 200:
        return AGIResult(code=code, result="", data=text)
    r = _RESULT_RE.match(text)
    if r is None:
        raise AGIProtocolError(f"200 response without result=: {line[:60]!r}")
    result, rest = r.group(1), r.group(2) or ""
    data, extra_text = "", rest
    d = _DATA_RE.match(rest)
    if d is not None:
        data, extra_text = d.group(1), d.group(2)
    elif not _EXTRA_RE.match(rest):
        data, extra_text = rest, ""
    extra = dict(item.split("=", 1) for item in extra_text.split())
    return AGIResult(code=code, result=result, data=data, extra=extra)


async def _readline(reader: asyncio.StreamReader) -> str:
    try:
        raw = await reader.readline()
    except ValueError as exc:  # longer than the reader's limit
        raise AGIProtocolError("AGI response line too long") from exc
    except ConnectionError as exc:
        raise AGIHangup("connection lost") from exc
    if not raw.endswith(b"\n"):
        raise AGIHangup("connection closed by Asterisk")
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


async def read_response(reader: asyncio.StreamReader) -> AGIResult:
    """Read one response, following `520-…` continuation lines to `520 …`.

    Raises AGIHangup when the line is `HANGUP` or the connection ends. Error codes
    are returned (code != 200), not raised: the channel decides.
    """
    line = ""
    while not line:  # tolerate stray empty lines
        line = await _readline(reader)
    if line.strip() == "HANGUP":
        raise AGIHangup("Asterisk sent HANGUP")
    m = _RESPONSE_RE.match(line)
    if m is None or m.group(2) == " ":
        return parse_result_line(line)
    code = m.group(1)
    texts = [m.group(3)]
    for _ in range(MAX_RESPONSE_LINES):
        line = await _readline(reader)
        if line.startswith(f"{code} "):
            texts.append(line[4:])
            return AGIResult(code=int(code), result="", data="\n".join(texts))
        texts.append(line[4:] if line.startswith(f"{code}-") else line)
    raise AGIProtocolError(f"{code} response longer than {MAX_RESPONSE_LINES} lines")
