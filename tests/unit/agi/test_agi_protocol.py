"""The AGI wire protocol: quoting, headers, response lines."""

from __future__ import annotations

import asyncio

import pytest

from hotline.agi.errors import AGIHangup, AGIProtocolError
from hotline.agi.protocol import (
    format_command,
    parse_headers,
    parse_result_line,
    quote,
    read_response,
    script_name,
    split_args,
)
from hotline.agi.result import AGIResult


def reader_with(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


# Quoting ------------------------------------------------------------------
def test_quote_plain() -> None:
    assert quote("hotline/welcome") == '"hotline/welcome"'
    assert quote("") == '""'


def test_quote_escapes_backslash_and_quote() -> None:
    assert quote('a"b') == '"a\\"b"'
    assert quote("a\\b") == '"a\\\\b"'
    assert quote('\\"') == '"\\\\\\""'


def test_quote_turns_newlines_into_spaces() -> None:
    assert quote("a\nb\rc\r\nd") == '"a b c d"'


def test_injected_hangup_stays_inside_one_argument() -> None:
    # A caller name like this must not end the command and start another one.
    evil = 'x"\nHANGUP'
    line = format_command("SET VARIABLE", "CALLER_NAME", evil)
    assert line.count("\n") == 1 and line.endswith("\n")
    assert line == 'SET VARIABLE "CALLER_NAME" "x\\" HANGUP"\n'
    assert split_args(line) == ["SET", "VARIABLE", "CALLER_NAME", 'x" HANGUP']


@pytest.mark.parametrize("text", ["plain", 'q"uote', "back\\slash", "\\", '"', " spaced out "])
def test_quote_round_trips_through_asterisk_parser(text: str) -> None:
    assert split_args(format_command("VERBOSE", text, "1")) == ["VERBOSE", text, "1"]


def test_verb_must_be_plain_words() -> None:
    with pytest.raises(ValueError):
        format_command('SET VARIABLE "X" "1"\nHANGUP')
    with pytest.raises(ValueError):
        format_command("answer")


# Headers ------------------------------------------------------------------------
HEADER = (
    b"agi_network: yes\n"
    b"agi_network_script: ivr?lang=zh\n"
    b"agi_request: agi://127.0.0.1:4573/ivr?lang=zh\n"
    b"agi_channel: PJSIP/trunk-00000001\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_callerid: 13800138000\n"
    b"agi_accountcode: \n"
    b"agi_arg_1: first\n"
    b"\n"
)


def test_parse_headers() -> None:
    headers = parse_headers(HEADER)
    assert headers["agi_network"] == "yes"
    assert headers["agi_uniqueid"] == "1700000000.1"
    assert headers["agi_accountcode"] == ""
    assert script_name(headers) == "ivr"


def test_script_from_request_when_no_network_script() -> None:
    assert script_name({"agi_request": "agi://127.0.0.1:4573/ivr/"}) == "ivr"
    assert script_name({"agi_network_script": "/emergency?x=1"}) == "emergency"


@pytest.mark.parametrize(
    "block",
    [b"GET / HTTP/1.0\nHost: x\n\n", b"\x00\xff\xfe garbage\n\n", b"agi_channel: x\n\n", b"\n\n"],
)
def test_parse_headers_refuses_garbage(block: bytes) -> None:
    with pytest.raises(AGIProtocolError):
        parse_headers(block)


# Response lines ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=1", AGIResult(200, "1")),
        ("200 result=0 endpos=100", AGIResult(200, "0", "", {"endpos": "100"})),
        ("200 result=51 endpos=8000\n", AGIResult(200, "51", "", {"endpos": "8000"})),
        ("200 result=1 (timeout) endpos=1234", AGIResult(200, "1", "timeout", {"endpos": "1234"})),
        ("200 result= (timeout)", AGIResult(200, "", "timeout")),
        ("200 result=3 (timeout)", AGIResult(200, "3", "timeout")),
        ("200 result=", AGIResult(200, "")),
        ("200 result=-1", AGIResult(200, "-1")),
        ("200 result=1 (a (b) c)", AGIResult(200, "1", "a (b) c")),
        ("510 Invalid or unknown command", AGIResult(510, "", "Invalid or unknown command")),
    ],
)
def test_parse_result_line(line: str, expected: AGIResult) -> None:
    assert parse_result_line(line) == expected


@pytest.mark.parametrize("line", ["", "hello", "200result=1", "200 foo=1", "20 result=1"])
def test_parse_result_line_refuses_garbage(line: str) -> None:
    with pytest.raises(AGIProtocolError):
        parse_result_line(line)


async def test_read_response_single_line() -> None:
    result = await read_response(reader_with(b"200 result=1 (some value)\n"))
    assert result == AGIResult(200, "1", "some value")


async def test_read_response_520_usage_block() -> None:
    data = (
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b" Usage: GET DATA <file to be streamed> [timeout] [maxdigits]\n"
        b"     Stream the given file, and receive DTMF data.\n"
        b"520 End of proper usage.\n"
        b"200 result=1\n"
    )
    reader = reader_with(data)
    result = await read_response(reader)
    assert result.code == 520
    assert not result.ok
    assert result.data.splitlines()[0] == "Invalid command syntax.  Proper usage follows:"
    assert "Usage: GET DATA" in result.data
    assert result.data.endswith("End of proper usage.")
    # The block is consumed whole: the next response is in step.
    assert await read_response(reader) == AGIResult(200, "1")


async def test_read_response_hangup_line() -> None:
    with pytest.raises(AGIHangup):
        await read_response(reader_with(b"HANGUP\n200 result=-1\n"))


@pytest.mark.parametrize("data", [b"", b"200 result=1"])
async def test_read_response_closed_connection_is_hangup(data: bytes) -> None:
    with pytest.raises(AGIHangup):
        await read_response(reader_with(data))


async def test_read_response_garbage() -> None:
    with pytest.raises(AGIProtocolError):
        await read_response(reader_with(b"HTTP/1.1 400 Bad Request\n"))
