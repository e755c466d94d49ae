"""Read a recorded AMI transcript (blocks of `Key: Value` lines, scripts/ami_capture.py)."""

from __future__ import annotations

from pathlib import Path


def read_transcript(path: Path) -> list[dict[str, str]]:
    events = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        ev = {}
        for line in block.splitlines():
            key, _, value = line.partition(": ")
            if key and key != "content":
                ev[key] = value
        if ev:
            events.append(ev)
    return events
