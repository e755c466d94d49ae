"""The recorded AMI transcripts in tests/fixtures."""

from __future__ import annotations

from pathlib import Path

from hotline.crm_bridge.transcript import read_transcript

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> list[dict[str, str]]:
    return read_transcript(FIXTURES / name)
