"""Measurement 9: concurrent calls held 60 s with audio and recording.

Each caller streams A-law audio (continuous RTP) for the whole call while it goes
through the menu (no key: the menu gives up and queues it) and waits in the queue
with music on hold, recorded by MixMonitor. Near the end of the hold, Asterisk's
own RTP statistics (`pjsip show channelstats`) give each channel's receive loss.
Quality holds at a level when every call succeeds and the worst channel lost
under 1 % of its packets. Levels double until quality fails.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass

from bench.harness import TARGETS, BenchHotline, progress, screen_count, sipp_scenario

# "[bridge id] channel uptime codec rx-count rx-lost rx-pct ..."
STATS_ROW = re.compile(
    r"(?P<chan>\S+-[0-9a-f]{8})\s+\d+:\d\d:\d\d\s+\S+\s+(?P<rx>\d+)\s+(?P<lost>-?\d+)\s+\d+"
)


@dataclass
class HeldLevel:
    target: str
    calls: int
    sip_ok: int
    channels_sampled: int
    worst_loss_pct: float
    mean_loss_pct: float

    @property
    def holds(self) -> bool:
        return (
            self.sip_ok == self.calls
            and self.channels_sampled >= self.calls * 0.9
            and self.worst_loss_pct < 1.0
        )


def loss_from_channelstats(text: str) -> list[float]:
    """Receive loss in % per channel from `pjsip show channelstats`."""
    out = []
    for m in STATS_ROW.finditer(text):
        rx, lost = int(m.group("rx")), max(0, int(m.group("lost")))
        if rx + lost:
            out.append(100.0 * lost / (rx + lost))
    return out


def hold_level(
    h: BenchHotline, target: str, calls: int, hold_s: float = 60, ramp: float = 50
) -> HeldLevel:
    prefix = h.next_prefix()
    work = h.var / f"held-{prefix}"
    work.mkdir()
    audio = work / "speech.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", str(audio),
         "synth", "10", "pinknoise", "vol", "0.3"],
        check=True,
    )  # fmt: skip
    scenario = work / "held_call.xml"
    scenario.write_text(
        sipp_scenario("held_call.xml", prefix=prefix, hold_ms=int(hold_s * 1000), audio=audio)
    )
    ramp_s = calls / ramp
    # fmt: off
    cmd = ["sipp", f"127.0.0.1:{h.settings.sip.port}", "-sf", str(scenario),
           "-s", TARGETS[target], "-r", f"{ramp:g}", "-m", str(calls), "-l", str(calls),
           "-i", "127.0.0.1", "-p", "5061", "-mp", "20000", "-nostdin",
           "-timeout", f"{ramp_s + hold_s + 40:.0f}s", "-timeout_error", "-max_socket", "50000"]
    # fmt: on
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    time.sleep(ramp_s + hold_s - 8)
    losses = loss_from_channelstats(h.asterisk_cli("pjsip show channelstats", timeout=30))
    try:
        screen, _ = proc.communicate(timeout=ramp_s + hold_s + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        screen, _ = proc.communicate()
    h.drain()
    level = HeldLevel(
        target,
        calls,
        screen_count(screen, "Successful call"),
        len(losses),
        max(losses, default=100.0),
        sum(losses) / len(losses) if losses else 100.0,
    )
    progress(
        f"{target} {calls} held calls: {level.sip_ok}/{calls} ok, RTP loss worst "
        f"{level.worst_loss_pct:.2f} %, mean {level.mean_loss_pct:.3f} % over "
        f"{level.channels_sampled} channels -> {'holds' if level.holds else 'FAILS'}"
    )
    return level


def held_capacity(
    h: BenchHotline, target: str, levels: tuple[int, ...] = (100, 200, 400)
) -> list[HeldLevel]:
    out = []
    for n in levels:
        level = hold_level(h, target, n)
        out.append(level)
        if not level.holds:
            break
    return out
