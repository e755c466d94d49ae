"""The benchmark harness's parsers: Asterisk RTP statistics and SIPp message traces."""

from __future__ import annotations

from pathlib import Path

from bench.held import loss_from_channelstats
from bench.routing import agent_events, delays_ms

# `pjsip show channelstats`, lines shortened after the receive columns
CHANNELSTATS = """
                                            ...........Receive.........
 BridgeId ChannelId ........ UpTime.. Codec.   Count    Lost Pct  Jitter
 ==========

          carrier-00000000   00:00:08 alaw      392       0    0   0.000     92
 1f0e4c2a carrier-0000001a   00:01:02 alaw      396       4    1   0.000     90

Objects found: 2
"""


def test_channelstats_receive_loss_per_channel() -> None:
    assert loss_from_channelstats(CHANNELSTATS) == [0.0, 1.0]
    assert loss_from_channelstats("No objects found.") == []


def _msg(stamp: str, direction: str, first_line: str) -> str:
    bar = "-" * 47
    return f"{bar} 2026-11-24 {stamp}\n{direction}\n\n{first_line}\nCall-ID: x\n\n"


def test_agent_free_to_next_invite(tmp_path: Path) -> None:
    log = tmp_path / "agent_messages.log"
    log.write_text(
        _msg("10:00:00.000000", "UDP message received [900] bytes :", "INVITE sip:2001@h SIP/2.0")
        + _msg("10:00:00.001000", "UDP message sent (521 bytes):", "SIP/2.0 200 OK")
        + _msg("10:00:01.000000", "UDP message sent (248 bytes):", "BYE sip:h SIP/2.0")
        + _msg("10:00:01.250000", "UDP message received [900] bytes :", "INVITE sip:2001@h SIP/2.0")
        + _msg("10:00:02.300000", "UDP message sent (248 bytes):", "BYE sip:h SIP/2.0")
    )
    events = agent_events(log)
    assert [k for _, k in events] == ["INVITE", "BYE", "INVITE", "BYE"]
    # the last BYE has no next call: not an interval
    assert [round(d) for d in delays_ms(events)] == [250]
