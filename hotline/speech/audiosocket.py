"""The AudioSocket protocol of Asterisk (app_audiosocket): frames over one TCP connection.

A frame is a kind byte, a big-endian 16-bit payload length and the payload. Asterisk sends
the call's UUID first, then 20 ms of 8 kHz signed-linear audio per frame and (Asterisk
22.3 and later) each key pressed as a DTMF frame; audio we send back is played to the
caller; a hangup frame (or closing the socket) ends the dialplan application.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from dataclasses import dataclass
from typing import Final

from hotline.speech.errors import ProtocolError

KIND_HANGUP: Final = 0x00
KIND_UUID: Final = 0x01
KIND_DTMF: Final = 0x03
KIND_AUDIO: Final = 0x10
KIND_ERROR: Final = 0xFF

SAMPLE_RATE: Final = 8000
FRAME_BYTES: Final = 320  # 20 ms of 16-bit mono at 8 kHz
FRAME_SECONDS: Final = 0.02
HANGUP: Final = b"\x00\x00\x00"


@dataclass(frozen=True)
class Frame:
    kind: int
    payload: bytes = b""


def encode(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


def audio(payload: bytes) -> bytes:
    return encode(KIND_AUDIO, payload)


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """The next frame; a closed connection reads as a hangup."""
    try:
        kind, length = struct.unpack(">BH", await reader.readexactly(3))
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError:
        return Frame(KIND_HANGUP)
    return Frame(kind, payload)


def call_uuid(frame: Frame) -> str:
    """The UUID of the first frame, in the string form the dialplan gave AudioSocket()."""
    if frame.kind != KIND_UUID or len(frame.payload) != 16:
        raise ProtocolError(f"expected a UUID frame, got kind 0x{frame.kind:02x}")
    return str(uuid.UUID(bytes=frame.payload))


def dtmf_key(frame: Frame) -> str:
    return frame.payload[:1].decode("ascii", errors="replace")
