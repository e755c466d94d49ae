"""Read a recorded AMI transcript (blocks of `Key: Value` lines)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> list[dict[str, str]]:
    events = []
    for block in (FIXTURES / name).read_text(encoding="utf-8").split("\n\n"):
        ev = {}
        for line in block.splitlines():
            key, _, value = line.partition(": ")
            if key and key != "content":
                ev[key] = value
        if ev:
            events.append(ev)
    return events
