"""Spoken words for SIPp calls: espeak-ng says them, sox makes 8 kHz A-law of it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def spoken_alaw(workdir: Path, text: str, *, voice: str = "ko", speed: int = 100) -> bytes:
    """The text as 8 kHz A-law samples (what a PCMA phone sends), for write_walk."""
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: apt-get install -y {package} (scripts/setup)")
    wav = workdir / f"spoken-{voice}.wav"
    alaw = workdir / f"spoken-{voice}.al"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True, timeout=30
    )
    subprocess.run(
        ["sox", "-D", str(wav), "-r", "8000", "-c", "1", "-t", "al", str(alaw)],
        check=True,
        timeout=30,
    )
    return alaw.read_bytes()
