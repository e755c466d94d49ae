"""RFC 2833 key presses as one pcap file for SIPp's play_pcap_audio.

SIPp renumbers each play_pcap_audio from the same base, so a second key pressed
with a second play (Debian's dtmf_2833_<key>.pcap, one per key) repeats the first
key's sequence numbers and Asterisk drops it as an old packet (measured: the
second key of a walk never arrived). A walk of several keys is therefore one file:
every press at its time (SIPp keeps the pcap's pacing), sequence numbers and
timestamps rising throughout. A step may also be speech (8 kHz A-law bytes, payload
type 8): it is sent as 20 ms packets in the same stream, so the citizen can speak
between two keys (a message, then # to end it).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
PAYLOAD_TYPE = 101
PCMA = 8
SSRC = 0x1234ABCD
PACKETS = 7  # 20 ms apart, then three end packets
STEP = 160  # 20 ms at 8 kHz


def _packet(seq: int, ts: int, marker: bool, event: int, end: bool, duration: int) -> bytes:
    payload = struct.pack(">BBH", event, (0x80 if end else 0) | 10, duration)
    return _rtp(seq, ts, marker, PAYLOAD_TYPE, payload)


def _rtp(seq: int, ts: int, marker: bool, payload_type: int, payload: bytes) -> bytes:
    rtp = struct.pack(
        ">BBHII", 0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF, ts, SSRC
    )
    rtp += payload
    udp = struct.pack(">HHHH", 16000, 6000, 8 + len(rtp), 0) + rtp
    total = 20 + len(udp)
    ip = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        total,
        0,
        0,
        64,
        17,
        0,
        bytes([127, 0, 0, 1]),
        bytes([127, 0, 0, 1]),
    )
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + udp


def write_walk(path: Path, steps: Sequence[tuple[int, str | bytes]]) -> int:
    """Each (pause_ms, key or A-law speech): wait, then press or speak. Returns the
    file's length in ms."""
    frames: list[tuple[int, bytes]] = []  # (microseconds from the start, frame)
    at_ms = 0
    seq = 1000
    for pause_ms, what in steps:
        at_ms += pause_ms
        if isinstance(what, bytes):
            for i, start in enumerate(range(0, len(what), STEP)):
                chunk = what[start : start + STEP].ljust(STEP, b"\xd5")  # A-law silence
                ts = 8000 + (at_ms + i * 20) * 8
                frames.append(((at_ms + i * 20) * 1000, _rtp(seq, ts, i == 0, PCMA, chunk)))
                seq += 1
            at_ms += -(-len(what) // STEP) * 20
            continue
        event = EVENTS[what]
        ts = 8000 + at_ms * 8  # 8 kHz
        for i in range(PACKETS + 3):
            end = i >= PACKETS
            duration = STEP * (min(i, PACKETS - 1) + 1)
            usec = (at_ms + min(i, PACKETS) * 20) * 1000
            frames.append((usec, _packet(seq, ts, i == 0, event, end, duration)))
            seq += 1
        at_ms += (PACKETS + 1) * 20
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for usec, frame in frames:
        sec, rest = divmod(usec, 1_000_000)
        out.append(struct.pack("<IIII", 1_700_000_000 + sec, rest, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return at_ms
