"""Measurement 7: what recording costs, and how fast recordings are archived.

Cost: CPU per call of the reference flow with MixMonitor ÷ the same flow without,
at the same fixed call rate in the same run. Archive speed: minutes of 8 kHz call
audio transcoded to the archive format and hashed per CPU second (this process
plus its ffmpeg children), through the recordings worker's own `archive_one`.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
from pathlib import Path

from bench.capacity import fixed_rate
from bench.harness import BenchHotline, Trial
from hotline.recordings.archive import archive_one


def recording_cost(h: BenchHotline, rate: float, seconds: float) -> tuple[Trial, Trial]:
    return fixed_rate(h, "REF", rate, seconds), fixed_rate(h, "REF_NOREC", rate, seconds)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def archive_speed(fmt: str = "gsm", files: int = 10, minutes: float = 3) -> float:
    """Minutes of audio archived per CPU second."""
    with tempfile.TemporaryDirectory() as tmp:
        src_dir, dst = Path(tmp) / "src", Path(tmp) / "dst"
        src_dir.mkdir()
        dst.mkdir()
        srcs = []
        for i in range(files):
            src = src_dir / f"call-{i}.wav"
            subprocess.run(
                ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(src),
                 "synth", str(minutes * 60), "pinknoise", "vol", "0.3"],
                check=True,
            )  # fmt: skip
            srcs.append(src)
        t0 = _cpu()
        for src in srcs:
            archive_one(src, dst, fmt)
        return files * minutes / max(_cpu() - t0, 1e-6)
