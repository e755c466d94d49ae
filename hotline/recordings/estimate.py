"""Disk needed for the retention period, per archive format, measured by a real transcode."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment  # type: ignore[import-untyped]
from pydub.generators import Sine, WhiteNoise  # type: ignore[import-untyped]

from hotline.recordings.archive import FORMATS, SAMPLE_RATE, archive_one

SAMPLE_SECONDS = 30


@dataclass(frozen=True)
class FormatEstimate:
    format: str
    bytes_per_minute: int
    total_bytes: int


def sample_audio(seconds: int = SAMPLE_SECONDS) -> AudioSegment:
    """Speech-like enough for VBR codecs: a tone under noise, with pauses (8 kHz mono)."""
    tone = Sine(220, sample_rate=SAMPLE_RATE).to_audio_segment(duration=700, volume=-12)
    noise = WhiteNoise(sample_rate=SAMPLE_RATE).to_audio_segment(duration=700, volume=-30)
    burst = tone.overlay(noise).set_channels(1).set_sample_width(2)
    pause = AudioSegment.silent(duration=300, frame_rate=SAMPLE_RATE)
    one = burst + pause
    out = one * (seconds * 1000 // len(one) + 1)
    return out[: seconds * 1000]


def measure_bytes_per_minute(formats: list[str] | None = None) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sample.wav"
        audio = sample_audio()
        audio.export(str(src), format="wav").close()
        minutes = len(audio) / 60000
        return {
            fmt: round(archive_one(src, Path(tmp) / "out", fmt).size / minutes)
            for fmt in (formats or list(FORMATS))
        }


def estimate(
    calls_per_day: int, minutes_per_call: float, retention_years: int
) -> list[FormatEstimate]:
    minutes = calls_per_day * minutes_per_call * 365.25 * retention_years
    return [
        FormatEstimate(fmt, bpm, round(bpm * minutes))
        for fmt, bpm in measure_bytes_per_minute().items()
    ]


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} EB"
