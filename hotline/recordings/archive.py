"""Archive one recording: read what Asterisk wrote, transcode (pydub + ffmpeg), hash.

Pure file work, no database: benchmarks time `archive_one` directly.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydub import AudioSegment  # type: ignore[import-untyped]

from hotline.recordings.errors import ArchiveError

# archive format -> (file extension, pydub export arguments)
FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    "wav": ("wav", {"format": "wav"}),
    # GSM 06.10 full rate, raw frames: 33 bytes per 20 ms, ~99 kB/min
    "gsm": ("gsm", {"format": "gsm", "codec": "libgsm"}),
    "mp3": ("mp3", {"format": "mp3", "codec": "libmp3lame", "bitrate": "16k"}),
    "opus": ("opus", {"format": "opus", "codec": "libopus", "bitrate": "16k"}),
}
MONO_ONLY = {"gsm"}
SAMPLE_RATE = 8000  # telephone audio
FILE_MODE = 0o400
DIR_MODE = 0o700


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    format: str
    size: int
    duration_seconds: float  # of the source audio
    channels: int
    sha256: str


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def load_source(src: Path) -> AudioSegment:
    """Asterisk's file: WAV (mono) or raw interleaved stereo slin (MixMonitor D)."""
    try:
        if src.suffix.lower() == ".raw":
            return AudioSegment.from_file(
                src, format="raw", frame_rate=SAMPLE_RATE, channels=2, sample_width=2
            )
        if src.suffix.lower() == ".wav" and src.stat().st_size <= 44:
            return AudioSegment.silent(duration=0, frame_rate=SAMPLE_RATE)
        fmt = src.suffix.lower().lstrip(".")
        return AudioSegment.from_file(src, format="gsm" if fmt == "gsm" else None)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ArchiveError(f"{src}: cannot read audio: {exc}") from exc


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)


def archive_one(src: Path, dst_dir: Path, fmt: str, *, name: str | None = None) -> ArchiveResult:
    """Transcode src into dst_dir/<name>.<ext> atomically (0400), return size, duration, hash."""
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown archive format {fmt!r}; allowed: {sorted(FORMATS)}")
    ext, export = FORMATS[fmt]
    audio = load_source(src)
    duration = len(audio) / 1000.0
    if fmt in MONO_ONLY and audio.channels > 1:
        audio = audio.set_channels(1)
    if audio.frame_rate != SAMPLE_RATE:
        audio = audio.set_frame_rate(SAMPLE_RATE)
    ensure_private_dir(dst_dir)
    final = dst_dir / f"{name or src.stem}.{ext}"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", dir=dst_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        args = dict(export)
        if fmt != "wav":
            args["parameters"] = ["-ar", str(SAMPLE_RATE)]
        out = audio.export(str(tmp), **args)
        out.close()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, final)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"{src}: cannot write {fmt} archive: {exc}") from exc
    dfd = os.open(dst_dir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return ArchiveResult(
        path=final,
        format=fmt,
        size=final.stat().st_size,
        duration_seconds=duration,
        channels=audio.channels,
        sha256=sha256_file(final),
    )
